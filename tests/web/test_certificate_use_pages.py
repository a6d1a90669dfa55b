"""Using a certificate with a use-grant code (用证) through the pages: the offer shows no value, the copy
shows exactly the granted fields with the note and verifies on /verify, every use reaches the holder's
grants page, and codes that cannot be used say why with the right status."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.certificates.conftest import MARRIAGE, CertWorld, citizen_login, marriage
from tests.certificates.conftest import world as world  # the certificates world fixture
from zerotrip.certificates import actions, grants
from zerotrip.certificates.models import Certificate, CertificateUse, UseGrant
from zerotrip.common import clock
from zerotrip.config import Settings
from zerotrip.keys import KeyStore

from .conftest import HTML, csrf_token, sign_in
from .test_certificate_pages import disclosed, verdict_code, verify

FUND = "杭州住房公积金管理中心"
PURPOSE = "住房公积金提取"
USED_BY = "杭州住房公积金管理中心 西湖管理部 张三"
REASON = "提取申请 GJJ-2026-0042 婚姻状况核验"


def grant_use(
    db: Session,
    world: CertWorld,
    settings: Settings,
    certificate: Certificate,
    fields: tuple[str, ...] = ("holder_name", "registered_on"),
) -> tuple[UseGrant, str]:
    """The wife lets the housing fund use her marriage certificate's ``fields`` for a week."""
    return grants.create_use_grant(
        db,
        actor=world.citizen(world.wife),
        settings=settings,
        number=certificate.number,
        audience=FUND,
        audience_kind="department",
        fields=list(fields),
        purpose=PURPOSE,
        days=7,
        now=clock.now(),
    )


def uses(db: Session, grant: UseGrant) -> int:
    return (
        db.scalar(select(func.count()).select_from(CertificateUse).where(CertificateUse.grant_id == grant.id))
        or 0
    )


def submit(client: TestClient, code: str, **data: str) -> httpx.Response:
    """Open the code's page (which hands out the form's token) and submit the use form."""
    page = client.get(f"/certificates/use/{code}", headers=HTML)
    assert page.status_code == 200, page.text
    form = {"csrf_token": csrf_token(page.text), "used_by": USED_BY, "reason": REASON, "confirm": "1"}
    return client.post(f"/certificates/use/{code}", data=form | data, headers=HTML, follow_redirects=False)


def granted(html: str) -> dict[str, str]:
    """Label → value of the fields on the copy."""
    block = html.split('id="granted"', 1)[1].split("</dl>", 1)[0]
    pairs = re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", block, re.DOTALL)
    return {dt.strip(): dd.strip() for dt, dd in pairs}


def test_a_valid_code_shows_what_it_offers_and_no_value(
    client: TestClient, db: Session, world: CertWorld, keys: KeyStore, settings: Settings
) -> None:
    certificate = marriage(db, world, keys, settings)
    row, code = grant_use(db, world, settings, certificate)
    page = client.get(f"/certificates/use/{code}", headers=HTML)
    assert page.status_code == 200
    assert "<h1>用证</h1>" in page.text
    offer = page.text.split('id="offer"', 1)[1].split("</section>", 1)[0]
    assert "结婚证" in offer and "浙江省民政厅" in offer and FUND in offer and PURPOSE in offer
    assert "持证人、登记日期" in offer and "政府部门" in offer
    assert row.expires_at.astimezone(clock.CHINA).strftime("%Y-%m-%d %H:%M") in offer
    # Nothing of the certificate before the use: not the holder, not a value, not its number.
    for secret in (world.wife.name, world.wife.resident_id, MARRIAGE["registered_on"], certificate.number):
        assert secret not in page.text
    assert 'name="used_by" type="text" value=""' in page.text, "an anonymous visitor types their name"
    assert "zt_csrf" in page.headers.get("set-cookie", "")
    assert uses(db, row) == 0, "looking is not using"

    # A code read out by the holder is typed on /certificates/use, in any case and spacing.
    typed = client.get(
        "/certificates/use",
        params={"code": code.lower().replace("-", " ")},
        headers=HTML,
        follow_redirects=False,
    )
    assert typed.status_code == 303
    assert typed.headers["location"] == f"/certificates/use/{code.replace('-', '')}"
    opened = client.get(typed.headers["location"], headers=HTML)
    assert opened.status_code == 200 and f'id="use-code">{code}<' in opened.text
    form = client.get("/certificates/use", headers=HTML)
    assert form.status_code == 200 and 'id="code-form"' in form.text and "输入持证人提供的授权码" in form.text


def test_a_signed_in_visitor_finds_their_name_filled_in(
    client: TestClient, db: Session, world: CertWorld, keys: KeyStore, settings: Settings
) -> None:
    _, code = grant_use(db, world, settings, marriage(db, world, keys, settings))
    assert sign_in(client, "zj-civil-steward", portal="/staff/login").status_code == 303
    page = client.get(f"/certificates/use/{code}", headers=HTML)
    assert page.status_code == 200 and 'name="used_by" type="text" value="钱数据"' in page.text


def test_using_a_code_hands_over_the_granted_fields_alone_and_the_holder_sees_the_use(
    client: TestClient, db: Session, world: CertWorld, keys: KeyStore, settings: Settings
) -> None:
    certificate = marriage(db, world, keys, settings)
    row, code = grant_use(db, world, settings, certificate)
    copy = submit(client, code)
    assert copy.status_code == 200, copy.text
    assert "<h1>结婚证（用证副本）</h1>" in copy.text
    assert granted(copy.text) == {"持证人": world.wife.name, "登记日期": MARRIAGE["registered_on"]}
    for withheld in (
        world.wife.resident_id,
        MARRIAGE["spouse_name"],
        world.husband.resident_id,
        MARRIAGE["certificate_no"],
    ):
        assert withheld not in copy.text
    note = re.search(r'id="use-note"><strong>(.*?)</strong>', copy.text)
    assert note and re.fullmatch(
        rf"仅供{FUND}用于{PURPOSE}，\d{{4}}年\d{{1,2}}月\d{{1,2}}日\d{{2}}:\d{{2}}前有效", note.group(1)
    )
    assert "浙江省民政厅" in copy.text and certificate.number in copy.text
    assert USED_BY in copy.text and REASON in copy.text
    assert '<svg viewBox="0 0' in copy.text.split('id="qr"', 1)[1][:200]
    download = re.search(r'href="(data:text/plain;charset=utf-8,[^"]+)" download="([^"]+)"', copy.text)
    assert download and download.group(2) == f"{certificate.number}.txt"
    assert uses(db, row) == 1

    # The copy verifies on /verify for anyone, with the granted fields only.
    payload = re.search(r'data-payload="([^"]+)"', copy.text)
    assert payload and payload.group(1).startswith(f"{settings.web.public_url}/verify#")
    token = unescape(payload.group(1)).split("#", 1)[1]
    assert token in unescape(copy.text.split('id="presentation"', 1)[1])
    client.cookies.clear()
    verdict = verify(client, payload.group(1))
    assert verdict_code(verdict.text) == "valid"
    assert disclosed(verdict.text) == {"持证人": world.wife.name, "登记日期": MARRIAGE["registered_on"]}
    assert world.wife.resident_id not in verdict.text

    # The holder sees who used it and why on the certificate's grants page.
    assert sign_in(client, citizen_login(db, world.wife)).status_code == 303
    holder = client.get(f"/me/certificates/{certificate.number}/grants", headers=HTML)
    assert holder.status_code == 200
    card = holder.text.split('id="grants"', 1)[1]
    assert f"{USED_BY} · {REASON}" in card


def test_a_missing_reason_or_confirmation_shows_the_form_again_and_records_nothing(
    client: TestClient, db: Session, world: CertWorld, keys: KeyStore, settings: Settings
) -> None:
    certificate = marriage(db, world, keys, settings)
    row, code = grant_use(db, world, settings, certificate)
    refused = submit(client, code, reason="   ")
    assert refused.status_code == 422
    assert "用证事由：" in refused.text and 'id="use-form"' in refused.text
    assert f'value="{USED_BY}"' in refused.text, "the form keeps what was typed"
    assert world.wife.name not in refused.text and MARRIAGE["registered_on"] not in refused.text
    unconfirmed = submit(client, code, confirm="")
    assert unconfirmed.status_code == 422 and "请确认仅将该证照用于所述用途" in unconfirmed.text
    assert REASON in unconfirmed.text and 'id="granted"' not in unconfirmed.text
    assert uses(db, row) == 0
    client.cookies.clear()
    forged = client.post(
        f"/certificates/use/{code}",
        data={"csrf_token": "x" * 43, "used_by": USED_BY, "reason": REASON, "confirm": "1"},
        headers=HTML,
    )
    assert forged.status_code == 403
    assert uses(db, row) == 0


def test_codes_that_cannot_be_used_say_why(
    client: TestClient, db: Session, world: CertWorld, keys: KeyStore, settings: Settings
) -> None:
    certificate = marriage(db, world, keys, settings)
    unknown = client.get("/certificates/use/ABCD-EFGH-JKMN", headers=HTML)
    assert unknown.status_code == 404
    assert "授权不存在" in unknown.text and "请向持证人核对授权码" in unknown.text
    assert 'id="code-form"' in unknown.text, "another code can be typed"
    assert client.get("/certificates/use/not-a-code", headers=HTML).status_code == 404

    expired, expired_code = grant_use(db, world, settings, certificate)
    expired.expires_at = clock.now() - timedelta(minutes=1)
    db.flush()
    page = client.get(f"/certificates/use/{expired_code}", headers=HTML)
    assert page.status_code == 410 and "该用证授权已过期" in page.text and 'id="use-form"' not in page.text

    withdrawn, withdrawn_code = grant_use(db, world, settings, certificate)
    token = csrf_token(client.get(f"/certificates/use/{withdrawn_code}", headers=HTML).text)
    grants.withdraw_use_grant(db, actor=world.citizen(world.wife), grant_id=withdrawn.id, now=clock.now())
    db.flush()
    page = client.get(f"/certificates/use/{withdrawn_code}", headers=HTML)
    assert page.status_code == 410 and "持证人已撤回该用证授权" in page.text
    late = client.post(
        f"/certificates/use/{withdrawn_code}",
        data={"csrf_token": token, "used_by": USED_BY, "reason": REASON, "confirm": "1"},
        headers=HTML,
    )
    assert late.status_code == 410 and "授权码已失效" in late.text and 'id="granted"' not in late.text
    assert uses(db, withdrawn) == 0

    _, live_code = grant_use(db, world, settings, certificate)
    actions.revoke_certificate(db, actor=world.civil_issuer, number=certificate.number, reason="登记信息有误")
    db.flush()
    page = client.get(f"/certificates/use/{live_code}", headers=HTML)
    assert page.status_code == 409 and "签发部门已撤销该证照" in page.text
    assert world.wife.name not in page.text


def test_the_use_pages_are_english_on_request(
    client: TestClient, db: Session, world: CertWorld, keys: KeyStore, settings: Settings
) -> None:
    _, code = grant_use(db, world, settings, marriage(db, world, keys, settings))
    client.get("/lang/en", follow_redirects=False)
    page = client.get(f"/certificates/use/{code}", headers=HTML)
    assert "Use a certificate" in page.text and "Marriage certificate" in page.text
    assert "A government department" in page.text
    copy = submit(client, code)
    assert copy.status_code == 200 and "Copy of Marriage certificate" in copy.text
    assert f"仅供{FUND}用于{PURPOSE}" in copy.text, "the note is the copy's own annotation"
