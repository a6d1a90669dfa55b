"""Aggregation API: uploads and pushes, reports and rejections, and problem+json when refused."""

from __future__ import annotations

import io
import json

from fastapi.testclient import TestClient
from openpyxl import Workbook
from sqlalchemy.orm import Session

from zerotrip.config import IdentitySettings
from zerotrip.deps import SESSION_COOKIE
from zerotrip.identity import auth
from zerotrip.identity.models import WebSession
from zerotrip.identity.secrets import token_hash

from .conftest import PASSWORD, ROOT, DatahubWorld
from .test_aggregation import ESTATE, csv_file, estate_row

BASE = "/api/datahub"


def signed_in_steward(client: TestClient, db: Session) -> dict[str, str]:
    outcome = auth.attempt_login(
        db,
        login_name="hz-land-steward",
        password=PASSWORD,
        client_address="10.0.0.1",
        portal="staff",
        settings=IdentitySettings(),
    )
    assert outcome.token
    db.flush()
    client.cookies.set(SESSION_COOKIE, outcome.token)
    session = db.get(WebSession, token_hash(outcome.token))
    assert session is not None
    return {"X-CSRF-Token": session.csrf_token}


def system_token(client: TestClient, db: Session, org_id: int, scopes: list[str]) -> dict[str, str]:
    system, secret = auth.register_api_client(
        db, actor=ROOT, org_id=org_id, name="国土业务系统", scopes=scopes
    )
    db.flush()
    data = {"grant_type": "client_credentials", "client_id": system.client_id, "client_secret": secret}
    response = client.post("/api/identity/token", data=data)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def assert_problem(response, status: int, slug: str) -> dict:  # type: ignore[no-untyped-def,type-arg]
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["type"] == f"/problems/{slug}"
    return body  # type: ignore[no-any-return]


def test_upload_csv_then_read_the_batch_rejections_and_quality(
    client: TestClient, db: Session, hub: DatahubWorld
) -> None:
    headers = signed_in_steward(client, db)
    rows = [estate_row(hub, 1), estate_row(hub, 2, area="lots"), estate_row(hub, 3)]
    upload = client.post(
        f"{BASE}/resources/{ESTATE}/batches",
        files={"file": ("estate.csv", csv_file(rows).getvalue(), "text/csv")},
        headers=headers,
    )
    assert upload.status_code == 201, upload.text
    batch = upload.json()
    assert (batch["resource"], batch["format"], batch["source"], batch["filename"]) == (
        ESTATE,
        "csv",
        "upload",
        "estate.csv",
    )
    assert (batch["rows_total"], batch["rows_accepted"], batch["rows_rejected"]) == (3, 2, 1)
    assert batch["report"]["errors"] == [{"field": "area", "rule": "type", "count": 1}]
    again = client.get(f"{BASE}/batches/{batch['id']}")
    assert again.status_code == 200 and again.json()["report"] == batch["report"]
    rejections = client.get(f"{BASE}/batches/{batch['id']}/rejections", params={"page": 1}).json()
    assert rejections["total"] == 1
    assert rejections["items"] == [
        {"row_number": 3, "field": "area", "rule": "type", "reason": "must be a number", "value": "lots"}
    ]
    quality = client.get(f"{BASE}/resources/{ESTATE}/quality").json()
    assert quality["rows_total"] == 3 and quality["records_current"] == 2
    assert quality["top_failing_rules"] == [{"field": "area", "rule": "type", "count": 1}]


def test_upload_xlsx_and_json_with_an_explicit_format(
    client: TestClient, db: Session, hub: DatahubWorld
) -> None:
    headers = signed_in_steward(client, db)
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    row = estate_row(hub, 1)
    sheet.append(list(row))
    sheet.append([*list(row.values())[:4], 89.5, "住宅", "2024-05-06", 330106])
    buffer = io.BytesIO()
    workbook.save(buffer)
    xlsx = client.post(
        f"{BASE}/resources/{ESTATE}/batches",
        files={"file": ("estate.xlsx", buffer.getvalue(), "application/octet-stream")},
        headers=headers,
    )
    assert xlsx.status_code == 201, xlsx.text
    assert (xlsx.json()["format"], xlsx.json()["rows_accepted"]) == ("xlsx", 1)
    body = json.dumps([estate_row(hub, 1), estate_row(hub, 2)], ensure_ascii=False).encode()
    pushed = client.post(
        f"{BASE}/resources/{ESTATE}/batches",
        files={"file": ("export.txt", body, "text/plain")},
        data={"format": "json"},
        headers=headers,
    )
    assert pushed.status_code == 201, pushed.text
    assert (pushed.json()["rows_accepted"], pushed.json()["rows_unchanged"]) == (2, 1)


def test_unreadable_uploads_are_422_problems(client: TestClient, db: Session, hub: DatahubWorld) -> None:
    headers = signed_in_steward(client, db)
    bad_header = csv_file([estate_row(hub, 1) | {"colour": "red"}]).getvalue()
    response = client.post(
        f"{BASE}/resources/{ESTATE}/batches",
        files={"file": ("a.csv", bad_header, "text/csv")},
        headers=headers,
    )
    body = assert_problem(response, 422, "datahub/unreadable-file")
    assert "unknown columns: colour" in body["detail"]
    no_format = client.post(
        f"{BASE}/resources/{ESTATE}/batches", files={"file": ("a.bin", b"x", "text/plain")}, headers=headers
    )
    assert_problem(no_format, 422, "datahub/unreadable-file")
    missing = client.post(
        f"{BASE}/resources/nope.nope/batches", files={"file": ("a.csv", b"x", "text/csv")}, headers=headers
    )
    assert_problem(missing, 404, "datahub/resource-not-found")


def test_department_systems_push_with_the_scope_for_their_own_resources(
    client: TestClient, db: Session, hub: DatahubWorld
) -> None:
    records = {"records": [estate_row(hub, 1), estate_row(hub, 2, holder_id="123")]}
    own = system_token(client, db, hub.land.id, ["datahub.records.write"])
    pushed = client.post(f"{BASE}/resources/{ESTATE}/records", json=records, headers=own)
    assert pushed.status_code == 201, pushed.text
    batch = pushed.json()
    assert (batch["source"], batch["format"], batch["rows_accepted"], batch["rows_rejected"]) == (
        "push",
        "records",
        1,
        1,
    )
    assert batch["report"]["examples"][0]["row_number"] == 2
    assert client.get(f"{BASE}/batches/{batch['id']}", headers=own).status_code == 200

    without_scope = system_token(client, db, hub.land.id, [])
    refused = client.post(f"{BASE}/resources/{ESTATE}/records", json=records, headers=without_scope)
    assert (
        assert_problem(refused, 403, "identity/scope-not-granted")["required_scope"]
        == "datahub.records.write"
    )
    elsewhere = system_token(client, db, hub.data_bureau.id, ["datahub.records.write"])
    refused = client.post(f"{BASE}/resources/{ESTATE}/records", json=records, headers=elsewhere)
    assert_problem(refused, 403, "datahub/not-steward")
    assert_problem(client.get(f"{BASE}/batches/{batch['id']}", headers=elsewhere), 403, "datahub/not-steward")
    empty = client.post(f"{BASE}/resources/{ESTATE}/records", json={"records": []}, headers=own)
    assert_problem(empty, 422, "validation-failed")


def test_anonymous_callers_and_unknown_batches(client: TestClient, db: Session, hub: DatahubWorld) -> None:
    assert_problem(
        client.post(f"{BASE}/resources/{ESTATE}/records", json={"records": [{}]}), 401, "not-authenticated"
    )
    signed_in_steward(client, db)
    unknown = client.get(f"{BASE}/batches/00000000-0000-0000-0000-000000000000")
    assert_problem(unknown, 404, "datahub/batch-not-found")
