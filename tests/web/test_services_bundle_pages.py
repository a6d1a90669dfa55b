"""The bundle pages (一件事): the guide's list and the newborn bundle's guide page (what it covers, the trips
of the whole), applying to it (one preview and consent for all parts, the one form, the uploads, the
pledges, problems on the page), the one status, and who may open what."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from zerotrip.audit.queries import list_events_for_subject
from zerotrip.config import Settings
from zerotrip.datahub.gateway import CHECKED, READ
from zerotrip.keys import KeyStore
from zerotrip.services import bundles

from ..services.bundle_world import BundleWorld, add_twin, build_bundle_world
from ..services.test_bundles import decide, parts, ready_to_submit
from ..services.world import sign_in_api
from .conftest import HTML

NEWBORN = "330106-yjs-birth"
PDF = b"%PDF-1.4\n%%EOF\n"


@pytest.fixture
def world(db: Session, settings: Settings) -> BundleWorld:
    return build_bundle_world(db, settings)


def reads(db: Session, world: BundleWorld) -> int:
    events = list_events_for_subject(db, subject_type="person", subject_id=world.mother.resident_id)
    return sum(e.action in (READ, CHECKED) for e in events)


def test_the_guide_shows_what_the_life_event_covers_and_the_trips_of_the_whole(
    client: TestClient, db: Session, world: BundleWorld
) -> None:
    listed = client.get("/services/bundles", headers=HTML)
    assert listed.status_code == 200
    assert f'href="/services/bundles/{NEWBORN}"' in listed.text and "出生“一件事”" in listed.text
    assert "4 个事项，4 个部门" in listed.text
    assert 'href="/services/bundles"' in client.get("/services", headers=HTML).text
    item = client.get("/services/items/330106-psb-0001", headers=HTML).text
    assert f'<a href="/services/bundles/{NEWBORN}">出生“一件事”</a>' in item
    page = client.get(f"/services/bundles/{NEWBORN}", headers=HTML)
    assert page.status_code == 200
    text = page.text
    assert "父母一次申请、一套材料" in text  # what the life event covers
    assert re.search(r'id="trip-count">0<', text) and re.search(r'id="trips-separately">0<', text)
    assert re.search(r'id="material-count">6<', text)
    for department in (
        "杭州市西湖区卫生健康局",
        "杭州市公安局西湖区分局",
        "杭州市西湖区医疗保障局",
        "杭州市人力资源和社会保障局",
    ):
        assert department in text, department
    assert "以下事项办结后开始办理：出生登记、城乡居民基本医疗保险参保登记（新生儿）" in text
    assert "出生医学证明：由“出生医学证明首次签发”推送至“出生登记”" in text
    assert "13 个工作日" in text
    assert f'href="/login?next=/services/bundles/{NEWBORN}"' in text
    missing = client.get("/services/bundles/330106-yjs-nothing", headers=HTML)
    assert missing.status_code == 404 and "没有这件“一件事”" in missing.text


def test_a_mother_applies_once_for_four_departments_through_the_pages(
    client: TestClient, db: Session, world: BundleWorld
) -> None:
    token = sign_in_api(client, db, world.mother.login_name, portal="citizen")["X-CSRF-Token"]
    guide = client.get(f"/services/bundles/{NEWBORN}", headers=HTML).text
    assert f'action="/services/bundles/{NEWBORN}/apply"' in guide and "一次在线办理" in guide
    started = client.post(
        f"/services/bundles/{NEWBORN}/apply", data={"csrf_token": token}, follow_redirects=False
    )
    assert started.status_code == 303
    url = started.headers["location"]
    assert re.fullmatch(r"/me/bundles/YJ[2-9A-HJ-NP-Z]{10}", url), url
    draft = client.get(url, headers=HTML).text
    assert "一次申请，4 个部门联办" in draft
    assert "办理“一件事”：出生“一件事”（330106-yjs-birth）" in draft
    assert "出生医学证明首次签发、出生登记" in draft  # the household record serves both
    assert "为全部事项调取我的数据" in draft and reads(db, world) == 0

    missing = client.post(f"{url}/submit", data={"csrf_token": token})
    assert missing.status_code == 422
    assert "还有材料未提供" in missing.text and "请勾选以签署承诺" in missing.text

    consented = client.post(f"{url}/consent", data={"csrf_token": token}, follow_redirects=False)
    assert consented.status_code == 303
    assert reads(db, world) == 3  # one read per source, for all four parts
    form = client.get(url, headers=HTML).text
    assert "为全部事项调取我的数据" not in form and "已锁定" in form and "浙江省卫生健康委员会" in form
    uploads = re.findall(rf'action="{url}/(parts/\d+/materials/\d+)/upload"', form)
    assert uploads == ["parts/1/materials/2", "parts/3/materials/2"]
    wrong = client.post(
        f"{url}/{uploads[0]}/upload", data={"csrf_token": token}, files={"file": ("x.pdf", b"GIF89a")}
    )
    assert wrong.status_code == 422 and "请上传 PDF、PNG 或 JPEG 格式的文件。" in wrong.text
    for path in uploads:
        sent = client.post(
            f"{url}/{path}/upload",
            data={"csrf_token": token},
            files={"file": ("扫描件.pdf", PDF)},
            follow_redirects=False,
        )
        assert sent.status_code == 303
    submitted = client.post(
        f"{url}/submit", data={"csrf_token": token, "pledge": "yes"}, follow_redirects=False
    )
    assert submitted.status_code == 303 and submitted.headers["location"] == url
    status = client.get(url, headers=HTML).text
    assert 'id="status">办理中<' in status
    assert "已办结 0 / 4 项" in status
    assert status.count("等待前序事项办结") == 3
    parts = re.findall(r'href="/me/applications/(BJ[0-9A-Z]{10})"', status)
    assert len(parts) == 4
    part = client.get(f"/me/applications/{parts[0]}", headers=HTML)
    assert part.status_code == 200 and "出生医学证明首次签发" in part.text
    mine = client.get("/me/bundles", headers=HTML).text
    assert url in mine and "0 / 4" in mine
    withdrawn = client.post(f"{url}/withdraw", data={"csrf_token": token}, follow_redirects=False)
    assert withdrawn.status_code == 303
    assert 'id="status">已撤回<' in client.get(url, headers=HTML).text


def test_only_the_applicant_opens_a_bundle_application(
    client: TestClient, db: Session, world: BundleWorld
) -> None:
    token = sign_in_api(client, db, world.mother.login_name, portal="citizen")["X-CSRF-Token"]
    url = client.post(
        f"/services/bundles/{NEWBORN}/apply", data={"csrf_token": token}, follow_redirects=False
    ).headers["location"]
    client.cookies.clear()
    assert client.get(url, headers=HTML, follow_redirects=False).headers["location"].startswith("/login")
    sign_in_api(client, db, world.stranger.login_name, portal="citizen")
    other = client.get(url, headers=HTML)
    assert other.status_code == 404 and "没有这份“一件事”申请" in other.text
    sign_in_api(client, db, "330106-health-reviewer")
    staff = client.get(url, headers=HTML)
    assert staff.status_code == 403


def test_a_reviewer_sees_the_bundles_one_status_on_their_part(
    client: TestClient, db: Session, world: BundleWorld, keys: KeyStore
) -> None:
    number = ready_to_submit(db, world, keys)
    bundles.submit_bundle(
        db, actor=world.mother.actor, number=number, keys=keys, settings=world.settings, pledge=True
    )
    certificate, registration, _, _ = parts(db, number, world)
    decide(db, world.reviewers["330106-health"], certificate.number, keys, world.settings)
    sign_in_api(client, db, "330106-psb-reviewer")
    page = client.get(f"/staff/services/applications/{registration.number}", headers=HTML)
    assert page.status_code == 200
    text = page.text
    assert "属于出生“一件事”" in text and f"联办件 {number}" in text
    assert 'id="bundle-status">办理中<' in text
    table = text[text.index('id="bundle-parts"') : text.index("</table>", text.index('id="bundle-parts"'))]
    assert re.findall(r'class="part-department">([^<]+)<', table) == [
        "杭州市西湖区卫生健康局",
        "杭州市公安局西湖区分局",
        "杭州市西湖区医疗保障局",
        "杭州市人力资源和社会保障局",
    ]
    assert re.findall(r'part-status">([^<]+)<', table) == [
        "已准予",
        "已提交",
        "等待前序事项办结",
        "等待前序事项办结",
    ]
    assert table.count("（本件）") == 1 and certificate.number not in table
    # The same in English.
    client.get("/lang/en", follow_redirects=False)
    english = client.get(f"/staff/services/applications/{registration.number}", headers=HTML).text
    assert "Part of 出生“一件事”" in english and "(this application)" in english


def test_a_mother_of_twins_chooses_the_birth_on_the_page(
    client: TestClient, db: Session, world: BundleWorld
) -> None:
    twin = add_twin(db, world)
    token = sign_in_api(client, db, world.mother.login_name, portal="citizen")["X-CSRF-Token"]
    url = client.post(
        f"/services/bundles/{NEWBORN}/apply", data={"csrf_token": token}, follow_redirects=False
    ).headers["location"]
    client.post(f"{url}/consent", data={"csrf_token": token})
    page = client.get(url, headers=HTML).text
    assert "查到多条记录：请选择一条" in page and f'action="{url}/sources/0/choose"' in page
    assert world.child_name in page and twin in page
    masked = world.mother.resident_id[:4] + "*" * 10 + world.mother.resident_id[-4:]
    assert masked in page and world.mother.resident_id not in page
    records = re.findall(r'name="record" value="(\d+)"', page)
    assert records == ["0", "1"]
    missing = client.post(f"{url}/submit", data={"csrf_token": token, "pledge": "yes"})
    assert missing.status_code == 422 and "请选择本次申请所涉及的记录" in missing.text
    for record in ("", "7", "x"):
        bad = client.post(f"{url}/sources/0/choose", data={"csrf_token": token, "record": record})
        assert bad.status_code == 422 and "请在列出的记录中选择一条。" in bad.text, record
    elsewhere = client.post(f"{url}/sources/1/choose", data={"csrf_token": token, "record": "0"})
    assert elsewhere.status_code == 422 and "此处没有等待您选择的记录。" in elsewhere.text
    # The twin's record, found by its position among the candidates listed.
    position = page.index(world.child_name) > page.index(twin)
    chosen = client.post(
        f"{url}/sources/0/choose",
        data={"csrf_token": token, "record": "0" if position else "1"},
        follow_redirects=False,
    )
    assert chosen.status_code == 303 and chosen.headers["location"] == f"{url}#form-title"
    form = client.get(url, headers=HTML).text
    assert "查到多条记录" not in form and twin in form and world.child_name not in form
    # Another citizen cannot choose in it.
    client.cookies.clear()
    other = sign_in_api(client, db, world.stranger.login_name, portal="citizen")["X-CSRF-Token"]
    stranger = client.post(f"{url}/sources/0/choose", data={"csrf_token": other, "record": "0"})
    assert stranger.status_code == 404
