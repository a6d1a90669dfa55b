"""The applications API: a citizen's whole application through it, who may call what, and its problems."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from zerotrip.audit.models import AuditEvent
from zerotrip.certificates.issuing import ISSUED
from zerotrip.config import IdentitySettings
from zerotrip.datahub.gateway import CHECKED, READ
from zerotrip.identity import auth
from zerotrip.identity.actor import system
from zerotrip.services.applications import MOVE_EVENTS
from zerotrip.services.applying import CONSENTED

from .apply_world import ApplyWorld
from .world import sign_in_api

BASE = "/api/services/applications"
WITHDRAWAL = "330100-fund-0001"
PDF = b"%PDF-1.4\n%%EOF\n"


def problem_type(response) -> str:  # type: ignore[no-untyped-def]
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    return str(response.json()["type"])


def test_a_citizen_applies_and_is_approved_at_once(
    client: TestClient, db: Session, apply_world: ApplyWorld
) -> None:
    headers = sign_in_api(client, db, apply_world.renter.login_name, portal="citizen")
    started = client.post(BASE, json={"item_code": WITHDRAWAL}, headers=headers)
    assert started.status_code == 201, started.text
    number = started.json()["number"]
    assert started.json()["status"] == "draft"
    preview = client.get(f"{BASE}/{number}/preview").json()
    assert preview["consumer"] == "一站式服务平台"
    assert [m["department"] for m in preview["materials"][:3]] == ["浙江省自然资源厅"] + [
        "杭州住房公积金管理中心"
    ] * 2
    audit_inserts: list[int] = []  # how many rows each INSERT into audit_event wrote

    def on_execute(conn, cursor, statement: str, params, context, many: bool) -> None:  # type: ignore[no-untyped-def]
        if statement.startswith("INSERT INTO audit_event"):
            # PostgreSQL: one JSON document of the rows; SQLite: executemany; one ORM row otherwise.
            rows = params.get("rows") if isinstance(params, dict) else None
            audit_inserts.append(len(params) if many else len(json.loads(rows)) if rows else 1)

    engine = db.get_bind().engine  # type: ignore[union-attr]
    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        consented = client.post(f"{BASE}/{number}/consent", json={}, headers=headers)
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
    assert consented.status_code == 200, consented.text
    assert [e["state"] for e in consented.json()["evidence"]] == ["fetched", "fetched", "fetched", "pending"]
    # One audit event per read and one for the consent, all written in one statement.
    assert audit_inserts == [4]
    audited = (
        db.execute(
            select(AuditEvent.action)
            .where(AuditEvent.request_id.is_not(None))
            .order_by(AuditEvent.id.desc())
            .limit(4)
        )
        .scalars()
        .all()
    )
    assert audited[::-1] == [CHECKED, READ, READ, CONSENTED]
    locked = [f for f in consented.json()["form"] if f["source"] == "datahub"]
    assert locked and all(f["is_locked"] and f["source_label"] and f["source_date"] for f in locked)
    # The reads went through the worker's gateway catalogue, which now describes the three resources.
    assert len(client.app.state.datahub_gateway_catalogue) == 3  # type: ignore[attr-defined]
    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        submitted = client.post(f"{BASE}/{number}/submit", json={"pledge": True}, headers=headers)
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
    assert submitted.status_code == 200, submitted.text
    # The moves (submitted, approved) and the letter issued: three events, one statement.
    assert audit_inserts == [4, 3]
    audited = db.execute(select(AuditEvent.action).order_by(AuditEvent.id.desc()).limit(3)).scalars().all()
    assert audited[::-1] == [MOVE_EVENTS["submit"], MOVE_EVENTS["approve"], ISSUED]
    body = submitted.json()
    assert body["status"] == "approved" and body["result_certificate_number"].startswith("1.2.156.3005.2.")
    assert [r["passed"] for r in body["rule_results"]] == [True, True, True]
    assert [t["to_status"] for t in body["transitions"]] == ["draft", "submitted", "approved"]
    mine = client.get(BASE).json()
    assert (mine["total"], mine["items"][0]["number"], mine["items"][0]["status"]) == (1, number, "approved")
    letter = client.get(f"/api/certificates/me/certificates/{body['result_certificate_number']}")
    assert letter.status_code == 200, letter.text


def test_declining_and_uploading_through_the_api(
    client: TestClient, db: Session, apply_world: ApplyWorld
) -> None:
    headers = sign_in_api(client, db, apply_world.renter.login_name, portal="citizen")
    number = client.post(BASE, json={"item_code": WITHDRAWAL}, headers=headers).json()["number"]
    declined = client.post(f"{BASE}/{number}/materials/0/decline", headers=headers)
    assert declined.json()["evidence"][0]["needs_upload"] is True
    incomplete = client.post(f"{BASE}/{number}/submit", json={"pledge": True}, headers=headers)
    assert incomplete.status_code == 422
    assert problem_type(incomplete) == "/problems/services/evidence-incomplete"
    assert {e["pointer"] for e in incomplete.json()["errors"]} == {
        "#/materials/0",
        "#/materials/1",
        "#/materials/2",
    }
    wrong = client.put(
        f"{BASE}/{number}/materials/0/upload",
        files={"file": ("x.pdf", b"GIF89a", "application/pdf")},
        headers=headers,
    )
    assert wrong.status_code == 422 and problem_type(wrong) == "/problems/services/invalid-upload"
    uploaded = client.put(
        f"{BASE}/{number}/materials/0/upload",
        files={"file": ("证明.pdf", PDF, "application/pdf")},
        headers=headers,
    )
    assert uploaded.status_code == 200, uploaded.text
    assert uploaded.json()["evidence"][0]["state"] == "uploaded"
    assert uploaded.json()["evidence"][0]["upload_name"] == "证明.pdf"
    client.post(f"{BASE}/{number}/consent", json={"materials": [1, 2]}, headers=headers)
    submitted = client.post(f"{BASE}/{number}/submit", json={"pledge": True}, headers=headers).json()
    assert submitted["status"] == "in_review" and submitted["result_certificate_number"] is None
    closed = client.post(f"{BASE}/{number}/consent", json={}, headers=headers)
    assert closed.status_code == 409 and problem_type(closed) == "/problems/services/application-closed"


def test_who_may_call_what(client: TestClient, db: Session, apply_world: ApplyWorld) -> None:
    assert client.post(BASE, json={"item_code": WITHDRAWAL}).status_code == 401
    assert client.post(BASE, json={"item_code": ["not", "a", "code"]}).status_code == 401
    headers = sign_in_api(client, db, apply_world.renter.login_name, portal="citizen")
    assert client.post(BASE, json={"item_code": WITHDRAWAL}).status_code == 403  # no CSRF header
    number = client.post(BASE, json={"item_code": WITHDRAWAL}, headers=headers).json()["number"]
    # Another citizen is told there is no such application.
    other = sign_in_api(client, db, apply_world.owner.login_name, portal="citizen")
    response = client.get(f"{BASE}/{number}")
    assert (
        response.status_code == 404 and problem_type(response) == "/problems/services/application-not-found"
    )
    assert client.post(f"{BASE}/{number}/consent", json={}, headers=other).status_code == 404
    assert client.post(f"{BASE}/{number}/submit", json={"pledge": True}, headers=other).status_code == 404
    # Consent and submit resolve their caller themselves: without the CSRF header, or signed out, nothing.
    for path, body in (("consent", {}), ("submit", {"pledge": True})):
        assert client.post(f"{BASE}/{number}/{path}", json=body).status_code == 403
        cookies = client.cookies
        client.cookies = {}
        try:
            assert client.post(f"{BASE}/{number}/{path}", json=body, headers=headers).status_code == 401
            # Signed out with a body that is not even valid: still 401, not a 422 about the body.
            malformed = client.post(
                f"{BASE}/{number}/{path}", json={"pledge": "maybe", "materials": "all"}, headers=headers
            )
            assert malformed.status_code == 401, malformed.text
        finally:
            client.cookies = cookies
    # The fund centre's reviewer reads it but cannot apply.
    staff = sign_in_api(client, db, "hz-fund-reviewer")
    assert client.get(f"{BASE}/{number}").json()["number"] == number
    refused = client.post(BASE, json={"item_code": WITHDRAWAL}, headers=staff)
    assert refused.status_code == 403 and problem_type(refused) == "/problems/services/applying-not-allowed"
    assert client.get(BASE).json()["items"] == []


def test_an_api_client_does_not_apply(client: TestClient, db: Session, apply_world: ApplyWorld) -> None:
    registered, secret = auth.register_api_client(
        db, actor=system("test"), org_id=apply_world.fund_id, name="公积金业务系统", scopes=[]
    )
    token, _ = auth.issue_client_token(
        db, client_id=registered.client_id, client_secret=secret, scope=None, settings=IdentitySettings()
    )
    db.flush()
    bearer = {"Authorization": f"Bearer {token}"}
    response = client.post(BASE, json={"item_code": WITHDRAWAL}, headers=bearer)
    assert response.status_code == 403 and problem_type(response) == "/problems/services/applying-not-allowed"
    # A second call is answered from the worker's cache of bearer tokens, with the same refusal.
    again = client.post(BASE, json={"item_code": WITHDRAWAL}, headers=bearer)
    assert again.status_code == 403 and problem_type(again) == "/problems/services/applying-not-allowed"
    unknown = client.post(BASE, json={"item_code": WITHDRAWAL}, headers={"Authorization": "Bearer nope"})
    assert unknown.status_code == 401


def test_rules_are_public_and_defined_by_the_departments_reviewers(
    client: TestClient, db: Session, apply_world: ApplyWorld
) -> None:
    rules = client.get(f"/api/services/items/{WITHDRAWAL}/rules")
    assert rules.status_code == 200
    assert [r.get("fact") or r.get("field") for r in rules.json()["rules"]] == [
        "real-estate.exists",
        "accounts.status",
        "contributions.month.consecutive_months",
    ]
    assert client.get(f"/api/services/items/{apply_world.retirement.code}/rules").status_code == 204
    headers = sign_in_api(client, db, "hz-fund-reviewer")
    new = {"rules": [{"fact": "real-estate.exists", "expect": False, "label": "无房"}]}
    saved = client.put(f"/api/services/items/{WITHDRAWAL}/rules", json=new, headers=headers)
    assert saved.status_code == 200, saved.text
    assert saved.json()["version"] == 2
    bad = client.put(
        f"/api/services/items/{WITHDRAWAL}/rules",
        json={"rules": [{"fact": "household.exists", "expect": True}]},
        headers=headers,
    )
    assert bad.status_code == 422 and problem_type(bad) == "/problems/services/invalid-rules"
    assert bad.json()["errors"][0]["pointer"] == "#/rules/0"
    headers = sign_in_api(client, db, "zj-land-reviewer")
    denied = client.put(f"/api/services/items/{WITHDRAWAL}/rules", json=new, headers=headers)
    assert denied.status_code == 403
