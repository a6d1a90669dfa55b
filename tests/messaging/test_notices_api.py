"""The staff notices API: publish, approve, inbox, read, acknowledge, attachments, roll-up, who has not
read, report-back and the directory, with problem+json for every refusal."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from .notices_world import NoticesWorld, build_notices_world, sign_in_api

PROBLEM = "application/problem+json"
BASE = "/api/messaging/notices"


@pytest.fixture
def world(db: Session) -> NoticesWorld:
    return build_notices_world(db)


def body(world: NoticesWorld, **fields: object) -> dict[str, object]:
    return {
        "title": "关于防御第9号台风“利奇马”的紧急通知",
        "body": "请各单位立即启动应急响应。",
        "targets": [{"org_id": world.orgs["330106-emergency"]}],
        **fields,
    }


def test_publish_read_and_acknowledge(client: TestClient, db: Session, world: NoticesWorld) -> None:
    anonymous = client.post(BASE, json=body(world))
    assert anonymous.status_code == 401 and anonymous.headers["content-type"] == PROBLEM

    headers = sign_in_api(client, db, "hz-pub")
    assert client.post(BASE, json=body(world, publish=True)).status_code == 403, "the CSRF header is needed"
    outside = client.post(
        BASE, json=body(world, targets=[{"org_id": world.orgs["330203-emergency"]}]), headers=headers
    )
    assert (
        outside.status_code == 403 and outside.json()["type"] == "/problems/messaging/target-outside-subtree"
    )
    invalid = client.post(BASE, json=body(world, priority="critical", targets=[]), headers=headers)
    assert invalid.status_code == 422 and invalid.headers["content-type"] == PROBLEM
    created = client.post(BASE, json=body(world, requires_ack=True, priority="urgent"), headers=headers)
    assert created.status_code == 201, created.text
    notice = created.json()
    assert notice["status"] == "draft" and notice["targets"][0]["label"] == "杭州市西湖区应急管理局"
    pdf = b"%PDF-1.7\n%%EOF\n"
    attached = client.put(
        f"{BASE}/{notice['id']}/attachments",
        files={"file": ("预案.pdf", pdf, "application/pdf")},
        headers=headers,
    )
    assert attached.status_code == 201, attached.text
    refused_file = client.put(
        f"{BASE}/{notice['id']}/attachments", files={"file": ("a.exe", b"MZ...", "x/y")}, headers=headers
    )
    assert refused_file.status_code == 422
    assert refused_file.json()["type"] == "/problems/messaging/invalid-attachment"
    published = client.post(f"{BASE}/{notice['id']}/publish", headers=headers)
    assert published.status_code == 200 and published.json()["status"] == "published"
    assert client.post(f"{BASE}/{notice['id']}/publish", headers=headers).status_code == 409

    headers = sign_in_api(client, db, "xh-em-2")
    inbox = client.get(f"{BASE}/inbox").json()
    assert [(i["id"], i["priority"], i["read_at"]) for i in inbox["items"]] == [
        (notice["id"], "urgent", None)
    ]
    assert inbox["unread"] == 1
    opened = client.get(f"{BASE}/{notice['id']}").json()
    assert opened["receipt"] == {"read_at": None, "acked_at": None, "units": [world.orgs["330106-emergency"]]}
    [attachment] = opened["attachments"]
    download = client.get(f"{BASE}/{notice['id']}/attachments/{attachment['id']}")
    assert download.status_code == 200 and download.content == pdf
    assert download.headers["content-type"] == "application/pdf"
    assert "filename*=UTF-8''%E9%A2%84%E6%A1%88.pdf" in download.headers["content-disposition"]
    read = client.post(f"{BASE}/{notice['id']}/read", headers=headers)
    assert read.status_code == 200 and read.json()["read_at"] is not None
    acked = client.post(f"{BASE}/{notice['id']}/ack", headers=headers)
    assert acked.status_code == 200 and acked.json()["acked_at"] is not None
    assert client.get(f"{BASE}/inbox", params={"unread": True}).json()["total"] == 0

    sign_in_api(client, db, "hs-em-1")
    for response in (
        client.get(f"{BASE}/{notice['id']}"),
        client.get(f"{BASE}/{notice['id']}/attachments/{attachment['id']}"),
    ):
        assert (
            response.status_code == 404 and response.json()["type"] == "/problems/messaging/notice-not-found"
        )


def test_approval_rollup_and_who_has_not_read(client: TestClient, db: Session, world: NoticesWorld) -> None:
    headers = sign_in_api(client, db, "zj-pub")
    created = client.post(
        BASE, json=body(world, targets=[{}], priority="emergency", publish=True), headers=headers
    )
    notice = created.json()
    assert (
        created.status_code == 201 and notice["status"] == "pending_approval" and notice["is_province_wide"]
    )
    self_approval = client.post(f"{BASE}/{notice['id']}/approve", headers=headers)
    assert self_approval.status_code == 403
    assert self_approval.json()["type"] == "/problems/messaging/approval-not-allowed"

    headers = sign_in_api(client, db, "zj-pub2")
    assert [n["id"] for n in client.get(f"{BASE}/approvals").json()["items"]] == [notice["id"]]
    approved = client.post(f"{BASE}/{notice['id']}/approve", headers=headers)
    assert approved.status_code == 200 and approved.json()["status"] == "published"

    for login in ("xh-em-1", "xh-em-2", "bj-em-1"):
        headers = sign_in_api(client, db, login)
        assert client.post(f"{BASE}/{notice['id']}/read", headers=headers).status_code == 200

    sign_in_api(client, db, "zj-pub")
    rollup = client.get(f"{BASE}/{notice['id']}/rollup").json()
    assert rollup["unit"]["recipients"] == 15 and rollup["unit"]["read"] == 3
    hangzhou = next(c for c in rollup["children"] if c["org_id"] == world.orgs["330100"])
    assert (hangzhou["recipients"], hangzhou["read"], hangzhou["read_pct"]) == (10, 3, 30.0)
    county = client.get(f"{BASE}/{notice['id']}/rollup", params={"unit": world.orgs["330106"]}).json()
    emergency = next(c for c in county["children"] if c["org_id"] == world.orgs["330106-emergency"])
    assert (emergency["recipients"], emergency["read"]) == (4, 2)
    missing = client.get(f"{BASE}/{notice['id']}/rollup/{world.orgs['330106-emergency']}/missing").json()
    assert [p["display_name"] for p in missing["items"]] == ["王发布", "褚数据"] and missing["total"] == 2

    # A county bureau's publisher follows their own bureau, not the neighbouring county.
    sign_in_api(client, db, "xh-em-pub")
    own = client.get(f"{BASE}/{notice['id']}/rollup", params={"unit": world.orgs["330106-emergency"]})
    assert own.status_code == 200 and own.json()["unit"]["read"] == 2
    other = client.get(f"{BASE}/{notice['id']}/rollup", params={"unit": world.orgs["330108"]})
    assert other.status_code == 403 and other.json()["type"] == "/problems/messaging/follow-not-allowed"
    sign_in_api(client, db, "xh-em-1")
    refused = client.get(f"{BASE}/{notice['id']}/rollup", params={"unit": world.orgs["330106-emergency"]})
    assert refused.status_code == 403


def test_report_back_and_directory(client: TestClient, db: Session, world: NoticesWorld) -> None:
    headers = sign_in_api(client, db, "hz-pub")
    form = [
        {"key": "evacuated", "label": "转移人数", "unit": "人"},
        {"key": "shelters", "label": "开放避灾点"},
    ]
    notice = client.post(
        BASE,
        json=body(world, targets=[{"division_code": "330100"}], form=form, publish=True),
        headers=headers,
    ).json()

    headers = sign_in_api(client, db, "xh-em-1")
    url = f"{BASE}/{notice['id']}/reports/{world.orgs['330106-emergency']}"
    assert client.get(url).json() is None
    bad = client.put(url, json={"values": {"evacuated": -1, "boats": 2}}, headers=headers)
    assert bad.status_code == 422 and bad.json()["type"] == "/problems/messaging/invalid-report"
    assert {e["pointer"] for e in bad.json()["errors"]} == {
        "#/values/evacuated",
        "#/values/shelters",
        "#/values/boats",
    }
    given = client.put(url, json={"values": {"evacuated": 1200, "shelters": 8}}, headers=headers)
    assert given.status_code == 200 and given.json()["revision"] == 1
    elsewhere = client.put(
        f"{BASE}/{notice['id']}/reports/{world.orgs['330108-emergency']}",
        json={"values": {"evacuated": 1, "shelters": 1}},
        headers=headers,
    )
    assert (
        elsewhere.status_code == 403 and elsewhere.json()["type"] == "/problems/messaging/report-not-allowed"
    )
    headers = sign_in_api(client, db, "bj-em-1")
    client.put(
        f"{BASE}/{notice['id']}/reports/{world.orgs['330108-emergency']}",
        json={"values": {"evacuated": 300, "shelters": 2}},
        headers=headers,
    )
    sign_in_api(client, db, "hz-pub")
    sums = client.get(f"{BASE}/{notice['id']}/reports").json()
    assert sums["unit"]["totals"] == {"evacuated": 1500, "shelters": 10}
    assert (sums["unit"]["answered"], sums["unit"]["expected"]) == (2, 5)

    directory = client.get("/api/messaging/directory", params={"q": "审核"}).json()
    assert sorted(e["display_name"] for e in directory["items"]) == ["冯审核", "卫审核", "蒋审核"]
    outside = client.get("/api/messaging/directory", params={"unit": world.orgs["330203"]})
    assert (
        outside.status_code == 403 and outside.json()["type"] == "/problems/messaging/directory-not-allowed"
    )
