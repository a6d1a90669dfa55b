"""The workflow API: a reviewer's queue and moves, the applicant's supplement answers and rating, who may
call what (county isolation), and the problems it answers with."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from zerotrip.keys import KeyStore

from .test_api_applications import problem_type
from .workflow_world import PDF, WorkflowWorld, submitted_application
from .world import sign_in_api

BASE = "/api/services/applications"


def test_a_reviewer_handles_an_application_and_the_applicant_answers_and_rates(
    client: TestClient, db: Session, workflow_world: WorkflowWorld, keys: KeyStore
) -> None:
    w = workflow_world
    number = submitted_application(db, w, w.xihu_resident, keys).number
    staff = sign_in_api(client, db, "hz-xh-civil-reviewer")
    queue = client.get(f"{BASE}/queue")
    assert queue.status_code == 200, queue.text
    assert [(e["number"], e["status"], e["current_step"]) for e in queue.json()["items"]] == [
        (number, "submitted", "受理")
    ]
    assert client.post(f"{BASE}/{number}/accept", json={"note": "材料齐全"}, headers=staff).json()[
        "status"
    ] == ("accepted")
    detail = client.get(f"{BASE}/{number}").json()
    assert [e["upload_name"] for e in detail["evidence"]] == ["0.pdf", "1.pdf"]
    file = client.get(f"{BASE}/{number}/materials/1/file")
    assert (file.status_code, file.content, file.headers["content-type"]) == (200, PDF, "application/pdf")
    bad = client.post(
        f"{BASE}/{number}/supplement-requests",
        json={"items": [{"material": 9, "detail": "x"}]},
        headers=staff,
    )
    assert bad.status_code == 422 and problem_type(bad) == "/problems/services/invalid-supplement-request"
    assert bad.json()["errors"][0]["pointer"] == "#/items/0/material"
    asked = client.post(
        f"{BASE}/{number}/supplement-requests",
        json={
            "items": [{"material": 1, "detail": "证明未盖章"}, {"detail": "说明家庭成员就业情况"}],
            "note": "一次性告知",
        },
        headers=staff,
    )
    assert asked.status_code == 201, asked.text
    assert asked.json()["status"] == "supplement" and asked.json()["workflow"]["is_paused"] is True
    early = client.post(f"{BASE}/{number}/approve", json={}, headers=staff)
    assert early.status_code == 409 and problem_type(early) == "/problems/services/application-closed"

    citizen = sign_in_api(client, db, w.xihu_resident.login_name, portal="citizen")
    incomplete = client.post(f"{BASE}/{number}/resubmit", headers=citizen)
    assert (
        incomplete.status_code == 422
        and problem_type(incomplete) == "/problems/services/supplement-incomplete"
    )
    assert {e["pointer"] for e in incomplete.json()["errors"]} == {"#/items/0", "#/items/1"}
    sent = client.put(
        f"{BASE}/{number}/supplement/items/0/file",
        files={"file": ("盖章.pdf", PDF + b"%2\n", "application/pdf")},
        headers=citizen,
    )
    assert sent.status_code == 200, sent.text
    said = client.post(
        f"{BASE}/{number}/supplement/items/1/answer", json={"text": "二人均无固定工作"}, headers=citizen
    )
    assert said.json()["workflow"]["supplements"][0]["items"][1]["answer_text"] == "二人均无固定工作"
    resumed = client.post(f"{BASE}/{number}/resubmit", headers=citizen)
    assert resumed.status_code == 200 and resumed.json()["status"] == "accepted"

    staff = sign_in_api(client, db, "hz-xh-civil-reviewer")
    wrong = client.post(f"{BASE}/{number}/approve", json={}, headers=staff)
    assert wrong.status_code == 409 and problem_type(wrong) == "/problems/services/wrong-step"
    for note in ("初审通过", "入户核查属实"):
        reviewed = client.post(f"{BASE}/{number}/reviews", json={"note": note}, headers=staff)
        assert reviewed.status_code == 200, reviewed.text
    approved = client.post(f"{BASE}/{number}/approve", json={"decision_text": ""}, headers=staff)
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved" and approved.json()["result_certificate_number"]

    citizen = sign_in_api(client, db, w.xihu_resident.login_name, portal="citizen")
    mine = client.get(f"{BASE}/{number}").json()
    assert [(t["to_status"], t["step"]) for t in mine["transitions"]][2:] == [
        ("accepted", "受理"),
        ("supplement", "初审"),
        ("accepted", "初审"),
        ("in_review", "初审"),
        ("in_review", "入户核查"),
        ("approved", "决定"),
    ]
    assert mine["workflow"]["can_rate"] is True
    rated = client.post(
        f"{BASE}/{number}/rating",
        json={"score": 2, "comment": "补正来回两次", "tags": ["slow"]},
        headers=citizen,
    )
    assert rated.status_code == 201 and rated.json()["workflow"]["rating"]["is_bad"] is True
    again = client.post(f"{BASE}/{number}/rating", json={"score": 5}, headers=citizen)
    assert again.status_code == 409 and problem_type(again) == "/problems/services/rating-not-allowed"
    invalid = client.post(f"{BASE}/{number}/rating", json={"score": 0}, headers=citizen)
    assert invalid.status_code == 422

    staff = sign_in_api(client, db, "hz-xh-civil-reviewer")
    answered = client.post(
        f"{BASE}/{number}/rating/rectification", json={"answer": "已简化补正告知流程"}, headers=staff
    )
    assert answered.status_code == 200, answered.text
    assert answered.json()["workflow"]["rating"]["rectification"] == "已简化补正告知流程"
    summary = client.get("/api/services/ratings").json()
    assert summary["departments"][0]["department"] == "西湖区民政局"
    assert (summary["ratings"], summary["departments"][0]["rectified_share"]) == (1, 1.0)


def test_staff_of_another_county_get_not_found_and_readers_may_not_act(
    client: TestClient, db: Session, workflow_world: WorkflowWorld, keys: KeyStore
) -> None:
    w = workflow_world
    number = submitted_application(db, w, w.xihu_resident, keys).number
    other = sign_in_api(client, db, "hz-yh-civil-reviewer")
    for response in (
        client.get(f"{BASE}/{number}"),
        client.get(f"{BASE}/{number}/materials/0/file"),
        client.post(f"{BASE}/{number}/accept", json={}, headers=other),
        client.post(f"{BASE}/{number}/refuse", json={"reasons": ["x"]}, headers=other),
    ):
        assert (
            response.status_code == 404
            and problem_type(response) == "/problems/services/application-not-found"
        )
    assert client.get(f"{BASE}/queue").json()["total"] == 0
    admin = sign_in_api(client, db, "hz-xh-admin")
    assert client.get(f"{BASE}/{number}").status_code == 200
    refused = client.post(f"{BASE}/{number}/accept", json={}, headers=admin)
    assert refused.status_code == 403 and problem_type(refused) == "/problems/services/review-not-allowed"
    stranger = sign_in_api(client, db, w.yuhang_resident.login_name, portal="citizen")
    assert client.get(f"{BASE}/{number}").status_code == 404
    assert client.get(f"{BASE}/queue").status_code == 403
    no_rating = client.post(f"{BASE}/{number}/rating", json={"score": 5}, headers=stranger)
    assert no_rating.status_code == 404
    assert client.get("/api/services/ratings").status_code == 403
