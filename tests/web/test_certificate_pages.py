"""The certificates pages through the app: the public verify page (verdicts said plainly, only the disclosed
fields), the issuers' pages (search, issue with field messages, the no-real-estate proof, suspend /
reinstate / revoke with a reason) and who may open which page."""

from __future__ import annotations

import re

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.certificates.conftest import MARRIAGE, CertWorld, citizen_login, marriage
from tests.certificates.conftest import world as world  # the certificates world fixture
from zerotrip.certificates import sdjwt, signing
from zerotrip.certificates.models import Certificate
from zerotrip.common import clock
from zerotrip.config import Settings
from zerotrip.keys import KeyStore

from .conftest import HTML, csrf_token, sign_in

STAFF = "/staff/login"
CIVIL_ISSUER = "zj-civil-issuer"
LAND_ISSUER = "zj-land-issuer"
CIVIL_STEWARD = "zj-civil-steward"


def staff(client: TestClient, login: str) -> None:
    assert sign_in(client, login, portal=STAFF).status_code == 303


def verify(client: TestClient, token: str) -> httpx.Response:
    """Open the verify page (which hands out the form's token) and submit ``token`` through it."""
    form = client.get("/verify", headers=HTML)
    assert form.status_code == 200
    return client.post("/verify", data={"token": token, "csrf_token": csrf_token(form.text)}, headers=HTML)


def disclosed(html: str) -> dict[str, str]:
    """Label → value of the disclosed fields on a verdict."""
    block = html.split('id="disclosed"', 1)[1].split("</dl>", 1)[0]
    pairs = re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", block, re.DOTALL)
    return {dt.strip(): dd.strip() for dt, dd in pairs}


def verdict_code(html: str) -> str:
    found = re.search(r'data-verdict="([a-z_]+)"', html)
    assert found, "the page shows no verdict"
    return found.group(1)


def count_certificates(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(Certificate)) or 0


# -- the public verify page --------------------------------------------------------------------------------


def test_the_verify_page_is_public_and_linked_from_every_page(client: TestClient, world: CertWorld) -> None:
    page = client.get("/verify", headers=HTML)
    assert page.status_code == 200
    assert "<h1>证照核验</h1>" in page.text
    assert 'href="/verify"' in client.get("/", headers=HTML).text
    assert "zt_csrf" in page.headers.get("set-cookie", "")
    assert '<script src="/static/certificates.js" defer></script>' in page.text


def test_a_certificate_verifies_as_valid_with_its_fields(
    client: TestClient, db: Session, world: CertWorld, keys: KeyStore, settings: Settings
) -> None:
    certificate = marriage(db, world, keys, settings)
    page = verify(client, certificate.token)
    assert page.status_code == 200
    assert verdict_code(page.text) == "valid"
    assert "有效" in page.text and "浙江省民政厅" in page.text and certificate.number in page.text
    assert "已对照签发部门的状态列表核验" in page.text
    fields = disclosed(page.text)
    assert fields["持证人"] == "林晓雯"
    assert fields["公民身份号码"] == world.wife.resident_id
    assert fields["配偶姓名"] == MARRIAGE["spouse_name"]
    assert fields["登记日期"] == MARRIAGE["registered_on"]


def test_a_presentation_shows_only_what_the_holder_chose(
    client: TestClient, db: Session, world: CertWorld, keys: KeyStore, settings: Settings
) -> None:
    certificate = marriage(db, world, keys, settings)
    presentation = sdjwt.present(
        certificate.token,
        disclose=["holder_name", "registered_on"],
        holder_key=signing.holder_private_key(keys, certificate.holder_key),
        audience=settings.web.public_url,
        nonce="n-1",
        now=clock.now(),
    )
    # The QR's text is a URL whose fragment is the presentation; the form takes it as it is.
    page = verify(client, f"{settings.web.public_url}/verify#{presentation}")
    assert verdict_code(page.text) == "valid"
    assert disclosed(page.text) == {"持证人": "林晓雯", "登记日期": MARRIAGE["registered_on"]}
    assert world.wife.resident_id not in page.text
    assert MARRIAGE["spouse_name"] not in page.text
    assert "由持证人从卡包出示" in page.text


def test_a_changed_certificate_is_said_to_be_changed(
    client: TestClient, db: Session, world: CertWorld, keys: KeyStore, settings: Settings
) -> None:
    certificate = marriage(db, world, keys, settings)
    forged = sdjwt.make_disclosure("spouse_name", "王某某")
    page = verify(client, certificate.token.replace("~", f"~{forged}~", 1).replace("~~", "~"))
    assert verdict_code(page.text) == "tampered_disclosure"
    assert "信息被篡改" in page.text
    assert 'id="disclosed"' not in page.text and world.wife.resident_id not in page.text
    assert verdict_code(verify(client, "not a certificate").text) == "malformed"


def test_nothing_to_verify_and_a_missing_form_token_are_refused(client: TestClient, world: CertWorld) -> None:
    page = verify(client, "   ")
    assert page.status_code == 422 and "请粘贴证照文本" in page.text
    client.cookies.clear()
    refused = client.post("/verify", data={"token": "x", "csrf_token": "y" * 40}, headers=HTML)
    assert refused.status_code == 403


# -- who may open the issuers' pages -----------------------------------------------------------------------

ISSUER_PAGES = (
    "/staff/certificates",
    "/staff/certificates/new",
    "/staff/certificates/new/marriage-certificate",
)


def test_signed_out_visitors_are_sent_to_the_staff_login(client: TestClient, world: CertWorld) -> None:
    for path in ISSUER_PAGES:
        response = client.get(path, headers=HTML, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/staff/login?next="), path


def test_citizens_and_staff_without_the_issuer_role_are_refused(
    client: TestClient, db: Session, world: CertWorld
) -> None:
    login = citizen_login(db, world.wife)
    assert sign_in(client, login).status_code == 303
    for path in ISSUER_PAGES:
        page = client.get(path, headers=HTML)
        assert page.status_code == 403 and "此页面仅供工作人员使用" in page.text, path
    client.cookies.clear()
    staff(client, CIVIL_STEWARD)
    for path in ISSUER_PAGES:
        page = client.get(path, headers=HTML)
        assert page.status_code == 403 and "此页面仅供证照签发人员使用" in page.text, path


def test_an_issuer_sees_only_their_departments_types_and_certificates(
    client: TestClient, db: Session, world: CertWorld, keys: KeyStore, settings: Settings
) -> None:
    certificate = marriage(db, world, keys, settings)
    staff(client, LAND_ISSUER)
    choices = client.get("/staff/certificates/new", headers=HTML).text
    assert "不动产权证书" in choices and "无房证明" in choices and "结婚证" not in choices
    assert client.get("/staff/certificates/new/marriage-certificate", headers=HTML).status_code == 403
    listing = client.get("/staff/certificates", headers=HTML)
    assert listing.status_code == 200 and certificate.number not in listing.text
    assert client.get(f"/staff/certificates/{certificate.number}", headers=HTML).status_code == 404


# -- issuing -----------------------------------------------------------------------------------------------


def issue_form(client: TestClient, code: str) -> str:
    page = client.get(f"/staff/certificates/new/{code}", headers=HTML)
    assert page.status_code == 200, page.text
    return csrf_token(page.text)


def test_a_bad_field_is_named_and_nothing_is_stored(
    client: TestClient, db: Session, world: CertWorld
) -> None:
    staff(client, CIVIL_ISSUER)
    token = issue_form(client, "marriage-certificate")
    before = count_certificates(db)
    page = client.post(
        "/staff/certificates/new/marriage-certificate",
        data={
            "csrf_token": token,
            "holder_key": world.wife.resident_id,
            "claims.certificate_no": "J330106-2019-000123",
            "claims.sex": "女",
            "claims.spouse_name": "陈建国",
            "claims.spouse_id": world.husband.resident_id[:-1] + "0",
            "claims.registered_on": "2019-13-40",
            "claims.registration_office": "",
        },
        headers=HTML,
    )
    assert page.status_code == 422
    assert "登记日期：日期须写作 YYYY-MM-DD" in page.text
    assert "配偶公民身份号码：不是有效的公民身份号码：校验码错误" in page.text
    assert "婚姻登记机关：不能为空" in page.text
    assert 'value="陈建国"' in page.text, "the form keeps what was typed"
    assert count_certificates(db) == before


def test_an_issuer_issues_a_certificate_and_revokes_it_and_the_verify_page_says_revoked(
    client: TestClient, db: Session, world: CertWorld
) -> None:
    staff(client, CIVIL_ISSUER)
    issued = client.post(
        "/staff/certificates/new/marriage-certificate",
        data={
            "csrf_token": issue_form(client, "marriage-certificate"),
            "holder_key": world.wife.resident_id,
            "claims.spouse_id": world.husband.resident_id,
            **{f"claims.{name}": value for name, value in MARRIAGE.items()},
        },
        headers=HTML,
        follow_redirects=False,
    )
    assert issued.status_code == 303, issued.text
    location = issued.headers["location"]
    page = client.get(location, headers=HTML)
    assert "已签发" in page.text and "有效" in page.text
    number = location.split("/staff/certificates/", 1)[1].split("?", 1)[0]
    certificate = db.scalar(select(Certificate).where(Certificate.number == number))
    assert certificate is not None and certificate.claims["spouse_name"] == "陈建国"
    assert number in client.get("/staff/certificates?status=valid", headers=HTML).text

    # A status change needs its reason; the page says so and nothing changes.
    token = csrf_token(page.text)
    refused = client.post(
        f"/staff/certificates/{number}/status",
        data={"csrf_token": token, "action": "revoke", "reason": " "},
        headers=HTML,
    )
    assert refused.status_code == 422 and "变更状态须说明理由" in refused.text
    db.refresh(certificate)
    assert certificate.status == "valid"

    suspended = client.post(
        f"/staff/certificates/{number}/status",
        data={"csrf_token": token, "action": "suspend", "reason": "核查登记信息"},
        headers=HTML,
    )
    assert suspended.status_code == 200 and "已暂停" in suspended.text
    shown = verify(client, certificate.token)
    assert shown.status_code == 200, re.sub(r"\s+", " ", shown.text)[-3000:]
    assert verdict_code(shown.text) == "suspended"
    revoked = client.post(
        f"/staff/certificates/{number}/status",
        data={"csrf_token": token, "action": "revoke", "reason": "登记信息有误，予以撤销"},
        headers=HTML,
    )
    assert revoked.status_code == 200 and "登记信息有误，予以撤销" in revoked.text
    assert 'value="reinstate"' not in revoked.text and 'value="revoke"' not in revoked.text

    client.cookies.clear()  # anyone, anonymously
    page = verify(client, certificate.token)
    assert verdict_code(page.text) == "revoked"
    assert "已撤销" in page.text and "签发部门已撤销该证照" in page.text
    assert "无效" not in page.text.split('data-verdict="revoked"', 1)[1].split("</section>", 1)[0]


def test_the_no_real_estate_proof_is_issued_or_refused_readably(
    client: TestClient, db: Session, world: CertWorld
) -> None:
    staff(client, LAND_ISSUER)
    form = client.get("/staff/certificates/no-real-estate-proof", headers=HTML)
    assert form.status_code == 200
    token = csrf_token(form.text)
    refused = client.post(
        "/staff/certificates/no-real-estate-proof",
        data={"csrf_token": token, "resident_id": world.owner.resident_id},
        headers=HTML,
    )
    assert refused.status_code == 409 and "不动产登记簿中有此人的登记记录" in refused.text
    issued = client.post(
        "/staff/certificates/no-real-estate-proof",
        data={"csrf_token": token, "resident_id": world.wife.resident_id},
        headers=HTML,
        follow_redirects=False,
    )
    assert issued.status_code == 303
    page = client.get(issued.headers["location"], headers=HTML)
    assert "无房证明" in page.text and "无不动产登记记录" in page.text
    client.cookies.clear()
    staff(client, CIVIL_ISSUER)
    assert client.get("/staff/certificates/no-real-estate-proof", headers=HTML).status_code == 403


def test_the_issuer_pages_are_english_on_request(client: TestClient, db: Session, world: CertWorld) -> None:
    client.get("/lang/en", follow_redirects=False)
    staff(client, CIVIL_ISSUER)
    page = client.get("/staff/certificates/new/marriage-certificate", headers=HTML)
    assert "Marriage certificate" in page.text and "Date of registration" in page.text
    assert "Verify a certificate" in client.get("/verify", headers=HTML).text


# -- the holder's pages ------------------------------------------------------------------------------------


def citizen(client: TestClient, db: Session, world: CertWorld, person: str = "wife") -> None:
    assert sign_in(client, citizen_login(db, getattr(world, person))).status_code == 303


def test_the_wallet_is_the_citizens_own(
    client: TestClient, db: Session, world: CertWorld, keys: KeyStore, settings: Settings
) -> None:
    certificate = marriage(db, world, keys, settings)
    assert (
        client.get("/me/certificates", headers=HTML, follow_redirects=False)
        .headers["location"]
        .startswith("/login?next=")
    )
    citizen(client, db, world)
    page = client.get("/me/certificates", headers=HTML)
    assert page.status_code == 200 and "<h1>卡包</h1>" in page.text and "结婚证" in page.text
    assert 'href="/me/certificates"' in client.get("/me", headers=HTML).text
    opened = client.get(f"/me/certificates/{certificate.number}", headers=HTML)
    assert opened.status_code == 200
    assert (
        "浙江省民政厅" in opened.text
        and certificate.number in opened.text
        and "J330106-2019-000123" in opened.text
    )
    client.cookies.clear()
    citizen(client, db, world, "owner")
    assert "结婚证" not in client.get("/me/certificates", headers=HTML).text
    assert client.get(f"/me/certificates/{certificate.number}", headers=HTML).status_code == 404
    client.cookies.clear()
    staff(client, CIVIL_ISSUER)
    refused = client.get("/me/certificates", headers=HTML)
    assert refused.status_code == 403 and "此页面仅供个人用户使用" in refused.text


def test_showing_discloses_the_chosen_fields_only(
    client: TestClient, db: Session, world: CertWorld, keys: KeyStore, settings: Settings
) -> None:
    certificate = marriage(db, world, keys, settings)
    citizen(client, db, world)
    form = client.get(f"/me/certificates/{certificate.number}/show", headers=HTML).text
    ticked = set(re.findall(r'name="field" value="([a-z_]+)" checked', form))
    assert ticked == {"holder_name", "registered_on"}, "name and the key fact; never the ID number"
    assert "<svg" not in form
    shown = client.get(
        f"/me/certificates/{certificate.number}/show?chosen=1&field=holder_name&field=spouse_name",
        headers=HTML,
    )
    assert shown.status_code == 200 and "<svg" in shown.text
    payload = re.search(r'data-payload="([^"]+)"', shown.text)
    assert payload and payload.group(1).startswith(f"{settings.web.public_url}/verify#")
    client.cookies.clear()
    page = verify(client, payload.group(1))
    assert verdict_code(page.text) == "valid"
    assert disclosed(page.text) == {"持证人": "林晓雯", "配偶姓名": "陈建国"}
    assert world.wife.resident_id not in page.text


def test_showing_nothing_is_refused_readably(
    client: TestClient, db: Session, world: CertWorld, keys: KeyStore, settings: Settings
) -> None:
    certificate = marriage(db, world, keys, settings)
    citizen(client, db, world)
    page = client.get(f"/me/certificates/{certificate.number}/show?chosen=1", headers=HTML)
    assert page.status_code == 422 and "请至少选择一项要出示的信息" in page.text


def test_a_citizen_asks_for_a_no_real_estate_proof(client: TestClient, db: Session, world: CertWorld) -> None:
    citizen(client, db, world)
    wallet = client.get("/me/certificates", headers=HTML)
    asked = client.post(
        "/me/certificates/no-real-estate-proof",
        data={"csrf_token": csrf_token(wallet.text)},
        headers=HTML,
        follow_redirects=False,
    )
    assert asked.status_code == 303
    page = client.get(asked.headers["location"], headers=HTML)
    assert "您的无房证明已开具" in page.text and "无不动产登记记录" in page.text
    client.cookies.clear()
    citizen(client, db, world, "owner")
    wallet = client.get("/me/certificates", headers=HTML)
    refused = client.post(
        "/me/certificates/no-real-estate-proof", data={"csrf_token": csrf_token(wallet.text)}, headers=HTML
    )
    assert refused.status_code == 409 and "不动产登记簿中有您的登记记录" in refused.text


def test_a_use_grant_is_shown_once_listed_with_its_uses_and_withdrawn(
    client: TestClient, db: Session, world: CertWorld, keys: KeyStore, settings: Settings
) -> None:
    certificate = marriage(db, world, keys, settings)
    citizen(client, db, world)
    url = f"/me/certificates/{certificate.number}/grants"
    page = client.get(url, headers=HTML)
    assert page.status_code == 200
    token = csrf_token(page.text)
    refused = client.post(
        url,
        data={
            "csrf_token": token,
            "audience": "",
            "audience_kind": "department",
            "purpose": "x",
            "days": "7",
        },
        headers=HTML,
    )
    assert refused.status_code == 422 and "使用方" in refused.text
    created = client.post(
        url,
        data={
            "csrf_token": token,
            "audience": "杭州住房公积金管理中心",
            "audience_kind": "department",
            "field": ["holder_name", "registered_on"],
            "purpose": "住房公积金提取",
            "days": "7",
        },
        headers=HTML,
    )
    assert created.status_code == 200
    code = re.search(r'id="grant-code">([^<]+)<', created.text)
    assert code and f"/certificates/use/{code.group(1)}" in created.text
    again = client.get(url, headers=HTML)
    assert "杭州住房公积金管理中心" in again.text and code.group(1) not in again.text, (
        "the code is shown once"
    )
    withdraw = re.search(r'action="(/me/certificates/[^"]+/withdraw)"', again.text)
    assert withdraw
    done = client.post(withdraw.group(1), data={"csrf_token": token}, headers=HTML)
    assert done.status_code == 200 and "授权已撤回" in done.text and "/withdraw" not in done.text


def test_the_holder_downloads_the_pdf_and_the_verify_page_accepts_it(
    client: TestClient, db: Session, world: CertWorld, keys: KeyStore, settings: Settings
) -> None:
    certificate = marriage(db, world, keys, settings)
    citizen(client, db, world)
    downloaded = client.get(f"/me/certificates/{certificate.number}/pdf", headers=HTML)
    assert downloaded.status_code == 200 and downloaded.headers["content-type"] == "application/pdf"
    assert downloaded.content.startswith(b"%PDF-")
    assert "attachment" in downloaded.headers["content-disposition"]
    client.cookies.clear()
    form = client.get("/verify", headers=HTML)
    page = client.post(
        "/verify/pdf",
        data={"csrf_token": csrf_token(form.text)},
        files={"file": ("结婚证.pdf", downloaded.content, "application/pdf")},
        headers=HTML,
    )
    assert verdict_code(page.text) == "valid" and disclosed(page.text)["持证人"] == "林晓雯"
    not_a_pdf = client.post(
        "/verify/pdf",
        data={"csrf_token": csrf_token(form.text)},
        files={"file": ("x.pdf", b"%PDF-1.4 nothing", "application/pdf")},
        headers=HTML,
    )
    assert not_a_pdf.status_code == 422 and "该文件不是本平台的证照 PDF" in not_a_pdf.text
