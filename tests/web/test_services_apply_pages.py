"""The applying pages: 在线办理 from the guide, the consent page that reads nothing, the prefilled locked
form with sources and dates, submission with the pledge, the decision with the link to the wallet, the
upload path after declining, problems shown on the page, and who may open what."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from zerotrip.audit.queries import list_events_for_subject
from zerotrip.config import Settings
from zerotrip.datahub.gateway import CHECKED, READ

from ..services.apply_world import ApplyWorld, Citizen, build_apply_world
from ..services.world import sign_in_api
from .conftest import HTML

WITHDRAWAL = "330100-fund-0001"
PDF = b"%PDF-1.4\n%%EOF\n"


@pytest.fixture
def apply_world(db: Session, settings: Settings) -> ApplyWorld:
    return build_apply_world(db, settings)


def start(client: TestClient, db: Session, citizen: Citizen) -> tuple[str, str]:
    """Sign in, press 在线办理 on the guide page; the draft's URL and the CSRF token."""
    token = sign_in_api(client, db, citizen.login_name, portal="citizen")["X-CSRF-Token"]
    guide = client.get(f"/services/items/{WITHDRAWAL}", headers=HTML)
    assert "在线办理" in guide.text and f'action="/services/items/{WITHDRAWAL}/apply"' in guide.text
    started = client.post(
        f"/services/items/{WITHDRAWAL}/apply", data={"csrf_token": token}, follow_redirects=False
    )
    assert started.status_code == 303
    location = started.headers["location"]
    assert re.fullmatch(r"/me/applications/BJ[2-9A-HJ-NP-Z]{10}", location), location
    return location, token


def reads(db: Session, citizen: Citizen) -> int:
    events = list_events_for_subject(db, subject_type="person", subject_id=citizen.resident_id)
    return sum(e.action in (READ, CHECKED) for e in events)


def test_the_guide_offers_online_applying_to_citizens_and_sign_in_to_visitors(
    client: TestClient, db: Session, apply_world: ApplyWorld
) -> None:
    anonymous = client.get(f"/services/items/{WITHDRAWAL}", headers=HTML).text
    assert f'href="/login?next=/services/items/{WITHDRAWAL}"' in anonymous and "登录后在线办理" in anonymous
    sign_in_api(client, db, "hz-fund-reviewer")
    staff = client.get(f"/services/items/{WITHDRAWAL}", headers=HTML).text
    assert "在线办理" not in staff


def test_a_citizen_applies_through_the_pages_and_is_approved_at_once(
    client: TestClient, db: Session, apply_world: ApplyWorld
) -> None:
    renter = apply_world.renter
    url, token = start(client, db, renter)
    draft = client.get(url, headers=HTML)
    assert draft.status_code == 200
    text = draft.text
    for shown in (
        "将使用的数据",
        "浙江省自然资源厅",
        "杭州住房公积金管理中心",
        "一站式服务平台",
        "仅核验是否存在与您有关的记录",
    ):
        assert shown in text, shown
    assert "办理政务服务事项：无房职工提取住房公积金支付房租（330100-fund-0001）" in text
    assert "同意并获取我的数据" in text and "等待您同意" in text
    assert reads(db, renter) == 0  # the consent page reads nothing
    consented = client.post(f"{url}/consent", data={"csrf_token": token}, follow_redirects=False)
    assert consented.status_code == 303
    form = client.get(url, headers=HTML).text
    assert reads(db, renter) == 3
    assert "同意并获取我的数据" not in form
    rows = re.findall(
        r"<tr>\s*<th scope=\"row\"[^>]*>(.*?)</th>\s*<td[^>]*>(.*?)</td>\s*<td[^>]*>(.*?)</td>", form, re.S
    )
    table = {re.sub(r"<[^>]+>", "", label).strip(): (value, source) for label, value, source in rows}
    value, source = table["账户状态"]
    assert (
        "正常" in value and "已锁定" in value and "杭州住房公积金管理中心" in source and "截至 20" in source
    )
    assert (
        "无记录" in table["本人及配偶本市住房情况"][0]
        and "浙江省自然资源厅" in table["本人及配偶本市住房情况"][1]
    )
    assert "6 个月" in table["缴存年月（连续月数）"][0]
    assert "实名身份信息" in table["申请人"][1]
    submitted = client.post(
        f"{url}/submit", data={"csrf_token": token, "pledge": "yes"}, follow_redirects=False
    )
    assert submitted.status_code == 303 and submitted.headers["location"] == url
    status = client.get(url, headers=HTML).text
    assert 'id="decision"' in status and "准予" in status and "已准予" in status
    letter = re.search(r'href="(/me/certificates/[^"]+)" id="letter"', status)
    assert letter is not None
    wallet = client.get(letter.group(1), headers=HTML)
    assert wallet.status_code == 200 and "办件结果通知书" in wallet.text
    assert url.rsplit("/", 1)[1] in wallet.text
    mine = client.get("/me/applications", headers=HTML).text
    assert url in mine and "无房职工提取住房公积金支付房租" in mine
    home = client.get("/me", headers=HTML).text
    assert "办件（含草稿）：1 件" in home


def test_problems_are_shown_on_the_application_page(
    client: TestClient, db: Session, apply_world: ApplyWorld
) -> None:
    url, token = start(client, db, apply_world.renter)
    missing = client.post(f"{url}/submit", data={"csrf_token": token})
    assert missing.status_code == 422
    assert "还有材料未提供" in missing.text and "请勾选以签署承诺" in missing.text
    assert "本人及配偶本市住房情况：尚缺。请同意由平台获取，或上传材料。" in missing.text
    declined = client.post(f"{url}/materials/0/decline", data={"csrf_token": token}, follow_redirects=False)
    assert declined.status_code == 303
    page = client.get(url, headers=HTML).text
    assert "需上传的材料" in page and "您未同意由平台获取" in page
    wrong = client.post(
        f"{url}/materials/0/upload", data={"csrf_token": token}, files={"file": ("x.pdf", b"GIF89a")}
    )
    assert wrong.status_code == 422 and "请上传 PDF、PNG 或 JPEG 格式的文件。" in wrong.text
    uploaded = client.post(
        f"{url}/materials/0/upload",
        data={"csrf_token": token},
        files={"file": ("证明.pdf", PDF)},
        follow_redirects=False,
    )
    assert uploaded.status_code == 303
    assert "证明.pdf" in client.get(url, headers=HTML).text
    client.post(f"{url}/consent", data={"csrf_token": token})
    client.post(f"{url}/submit", data={"csrf_token": token, "pledge": "yes"})
    status = client.get(url, headers=HTML).text
    assert "转人工审核" in status and "人工审核中" in status
    assert "您自行上传（未同意由平台获取）的材料需人工审核：本人及配偶本市住房情况" in status
    assert reads(db, apply_world.renter) == 2  # the real-estate register was never asked


def test_a_failed_rule_is_shown_to_the_applicant(
    client: TestClient, db: Session, apply_world: ApplyWorld
) -> None:
    url, token = start(client, db, apply_world.owner)
    client.post(f"{url}/consent", data={"csrf_token": token})
    client.post(f"{url}/submit", data={"csrf_token": token, "pledge": "yes"})
    status = client.get(url, headers=HTML).text
    assert "转人工审核" in status
    failed = re.search(r'<ul class="plain-list" id="failed-rules">(.*?)</ul>', status, re.S)
    assert failed is not None and "本人在本省无不动产登记（不符合）" in failed.group(1)
    assert "有记录" in status


def test_only_the_applicant_opens_it_and_forms_need_their_token(
    client: TestClient, db: Session, apply_world: ApplyWorld
) -> None:
    url, _ = start(client, db, apply_world.renter)
    assert client.post(f"{url}/consent", data={"csrf_token": "forged"}).status_code == 403
    sign_in_api(client, db, apply_world.owner.login_name, portal="citizen")
    assert client.get(url, headers=HTML).status_code == 404
    client.cookies.clear()
    signed_out = client.get(url, headers=HTML, follow_redirects=False)
    assert signed_out.status_code == 303 and signed_out.headers["location"].startswith("/login?next=")
    assert reads(db, apply_world.renter) == 0
