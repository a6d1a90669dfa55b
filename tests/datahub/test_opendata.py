"""Open data: only open fields of open resources, anyone; restricted ones after an approved application;
filters, sort and paging in SQL; downloads that match the data exactly."""

from __future__ import annotations

import csv
import io
import json
import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from zerotrip.app import create_app
from zerotrip.audit.models import AuditEvent
from zerotrip.config import Settings
from zerotrip.datahub import catalogue, open_access, opendata
from zerotrip.datahub.api_open import PerMinuteLimit
from zerotrip.datahub.errors import NotOpen, OpenApplicationClosed, ResourceNotFound
from zerotrip.datahub.models import Record
from zerotrip.datahub.records import delete_record
from zerotrip.datahub.schemas import FieldSpec
from zerotrip.identity.actor import ANONYMOUS
from zerotrip.keys import KeyStore
from zerotrip.problems import Conflict, NotAllowed, ValidationFailed

from .conftest import DatahubWorld, county_stats_spec
from .open_helpers import COUNTY_ROWS, api_client, bearer, client_actor, estate_row, load, restricted_resource

STATS = "330100-land.registrations-by-county"
OPEN = "/api/datahub/open/resources"


@pytest.fixture
def stats(db: Session, hub: DatahubWorld) -> DatahubWorld:
    load(db, hub.county_stats, COUNTY_ROWS)
    load(db, hub.real_estate, [estate_row(hub, 1)])
    return hub


def test_the_portal_lists_open_and_restricted_resources_never_closed(
    client: TestClient, db: Session, stats: DatahubWorld
) -> None:
    restricted_resource(db, stats)
    listing = client.get(OPEN).json()
    assert [r["code"] for r in listing["items"]] == [
        "330100-land.registrations-by-county",
        "330100-land.transactions",
    ]
    assert listing["total"] == 2
    assert client.get(OPEN, params={"q": "registrations"}).json()["total"] == 1
    closed = client.get(f"{OPEN}/330100-land.real-estate")
    assert closed.status_code == 404
    assert closed.json()["type"] == "/problems/datahub/resource-not-found"
    assert client.get(f"{OPEN}/330100-land.real-estate/records").status_code == 404
    assert client.get(f"{OPEN}/330100-land.real-estate/download.csv").status_code == 404


def test_an_open_resource_shows_only_its_open_fields(
    client: TestClient, db: Session, hub: DatahubWorld
) -> None:
    spec = county_stats_spec(hub.land.id).model_copy(update={"code": "330100-land.mixed"})
    spec.fields.append(FieldSpec(name="clerk", title="经办人", grade=2))
    mixed = catalogue.catalogue_resource(db, actor=hub.steward, spec=spec)
    load(db, mixed, [{"district": "330106", "month": "2024-01", "registrations": 5, "clerk": "王五"}])
    described = client.get(f"{OPEN}/330100-land.mixed").json()
    assert [f["name"] for f in described["fields"]] == ["district", "month", "registrations"]
    assert described["has_access"] is True
    page = client.get(f"{OPEN}/330100-land.mixed/records").json()
    assert page["items"] == [{"district": "330106", "month": "2024-01", "registrations": 5}]
    probe = client.get(f"{OPEN}/330100-land.mixed/records", params={"clerk": "王五"})
    assert probe.status_code == 422
    assert probe.json()["errors"] == [{"detail": "not a field you can filter on", "parameter": "clerk"}]
    for kind in ("csv", "json"):
        assert "王五" not in client.get(f"{OPEN}/330100-land.mixed/download.{kind}").text


def test_filter_sort_and_page_run_in_sql(client: TestClient, stats: DatahubWorld) -> None:
    url = f"{OPEN}/{STATS}/records"
    first = client.get(url, params={"district": "330106", "sort": "-registrations", "per_page": 3}).json()
    assert first["fields"] == ["district", "month", "registrations"]
    assert first["total"] == 4
    assert [r["registrations"] for r in first["items"]] == [1290, 977, 812]
    second = client.get(
        url, params={"district": "330106", "sort": "-registrations", "per_page": 3, "page": 2}
    )
    assert [r["registrations"] for r in second.json()["items"]] == [455]
    past_the_end = client.get(url, params={"district": "330106", "per_page": 3, "page": 5}).json()
    assert past_the_end["items"] == [] and past_the_end["total"] == 4
    by_two = client.get(url, params={"sort": "district,-month"}).json()["items"]
    assert [(r["district"], r["month"]) for r in by_two][:3] == [
        ("330102", "2024-02"),
        ("330102", "2024-01"),
        ("330105", "2024-01"),
    ]
    exact = client.get(url, params={"registrations": "640"}).json()
    assert exact["total"] == 1 and exact["items"][0]["district"] == "330105"
    none = client.get(url, params={"district": "330999"}).json()
    assert none == {
        "fields": ["district", "month", "registrations"],
        "items": [],
        "total": 0,
        "page": 1,
        "per_page": 50,
    }


def test_bad_filters_and_sort_keys_are_422_problems(client: TestClient, stats: DatahubWorld) -> None:
    url = f"{OPEN}/{STATS}/records"
    bad = client.get(url, params={"registrations": "many", "sort": "-nope"})
    assert bad.status_code == 422
    body = bad.json()
    assert body["type"] == "/problems/validation-failed"
    assert {e["parameter"] for e in body["errors"]} == {"registrations", "sort"}
    assert client.get(f"{OPEN}/{STATS}/download.csv", params={"nope": "1"}).status_code == 422


def test_deleted_records_leave_the_portal(client: TestClient, db: Session, stats: DatahubWorld) -> None:
    record = db.scalars(
        select(Record).where(Record.resource_id == stats.county_stats.id).order_by(Record.id)
    ).first()
    assert record is not None
    delete_record(db, resource=stats.county_stats, record=record, changed_by="test")
    db.flush()
    page = client.get(f"{OPEN}/{STATS}/records").json()
    assert page["total"] == len(COUNTY_ROWS) - 1
    assert {"district": "330106", "month": "2024-01", "registrations": 812} not in page["items"]


def test_downloads_match_the_data_exactly(client: TestClient, db: Session, stats: DatahubWorld) -> None:
    load(db, stats.county_stats, [{"district": "330110", "month": "2024-05", "registrations": 0}])
    expected = [
        {k: r.data[k] for k in ("district", "month", "registrations")}
        for r in db.scalars(
            select(Record).where(Record.resource_id == stats.county_stats.id).order_by(Record.id)
        )
    ]
    as_json = client.get(f"{OPEN}/{STATS}/download.json")
    assert as_json.status_code == 200
    assert as_json.headers["content-type"] == "application/json"
    assert as_json.json() == expected
    as_csv = client.get(f"{OPEN}/{STATS}/download.csv")
    assert as_csv.headers["content-type"] == "text/csv; charset=utf-8"
    assert 'filename="330100-land.registrations-by-county.csv"' in as_csv.headers["content-disposition"]
    raw = as_csv.content
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert rows == [{k: str(v) for k, v in row.items()} for row in expected]
    filtered = client.get(
        f"{OPEN}/{STATS}/download.json", params={"district": "330102", "sort": "registrations"}
    )
    assert [r["registrations"] for r in filtered.json()] == [288, 301]


def test_csv_and_json_writers_quote_and_escape() -> None:
    rows = [
        {"name": '杭州, "西湖"', "n": 1, "ok": True, "none": None},
        {"name": "第二行\n换行", "n": 2.5, "ok": False},
    ]
    names = ["name", "n", "ok", "none"]
    text = b"".join(opendata.csv_chunks(names, rows)).decode("utf-8")
    assert text.startswith("\ufeffname,n,ok,none\r\n")
    parsed = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline="")))
    assert parsed[1:] == [['杭州, "西湖"', "1", "true", ""], ["第二行\n换行", "2.5", "false", ""]]
    assert json.loads(b"".join(opendata.json_chunks(rows))) == rows
    assert json.loads(b"".join(opendata.json_chunks([]))) == []


def test_restricted_data_needs_an_approved_application(
    client: TestClient, db: Session, hub: DatahubWorld
) -> None:
    resource = restricted_resource(db, hub)
    load(db, resource, [estate_row(hub, 1), estate_row(hub, 2, district="330102", area=120.0)])
    url = f"{OPEN}/{resource.code}"
    described = client.get(url).json()
    assert described["has_access"] is False
    assert {f["name"]: f["is_masked"] for f in described["fields"]}["holder_name"] is True
    refused = client.get(f"{url}/records")
    assert refused.status_code == 403
    assert refused.json()["type"] == "/problems/datahub/not-open"
    assert client.get(f"{url}/download.csv").status_code == 403

    applicant, secret = api_client(db, org_id=hub.data_bureau.id, scopes=["datahub.open.apply"])
    headers = bearer(client, applicant, secret)
    assert client.get(f"{url}/records", headers=headers).status_code == 403
    applied = client.post(f"{url}/applications", json={"purpose": "研究住房供应"}, headers=headers)
    assert applied.status_code == 201, applied.text
    assert applied.json()["status"] == "pending"
    application_id = applied.json()["id"]
    again = client.post(f"{url}/applications", json={"purpose": "again"}, headers=headers)
    assert again.json()["id"] == application_id
    mine = client.get("/api/datahub/open/applications", headers=headers).json()
    assert [a["id"] for a in mine] == [application_id]

    approved = open_access.decide_open_application(
        db, actor=hub.steward, application_id=uuid.UUID(application_id), approve=True, reason=None
    )
    db.flush()
    assert approved.status == "approved"
    page = client.get(f"{url}/records", params={"sort": "-area"}, headers=headers)
    assert page.status_code == 200, page.text
    first = page.json()["items"][0]
    assert first["area"] == 120.0 and first["district"] == "330102"
    assert first["holder_name"] == "张*丰" and first["holder_id"].count("*") == 10
    assert "address" in first and first["address"] != estate_row(hub, 2)["address"]
    probe = client.get(f"{url}/records", params={"holder_name": "张三丰"}, headers=headers)
    assert probe.status_code == 422
    assert client.get(f"{url}/records").status_code == 403  # still nothing for anonymous callers
    events = db.scalars(
        select(AuditEvent.action).where(
            AuditEvent.subject_id == resource.code, AuditEvent.actor == f"client:{applicant.client_id}"
        )
    ).all()
    assert "datahub.open_data.read" in events


def test_applications_are_for_scoped_clients_and_decided_once(db: Session, hub: DatahubWorld) -> None:
    resource = restricted_resource(db, hub)
    unscoped, _ = api_client(db, org_id=hub.data_bureau.id, scopes=[])
    with pytest.raises(NotAllowed):
        open_access.apply_for_open_access(db, actor=client_actor(unscoped), code=resource.code, purpose="x")
    scoped, _ = api_client(db, org_id=hub.data_bureau.id, scopes=["datahub.open.apply"], name="研究机构")
    actor = client_actor(scoped)
    with pytest.raises(Conflict):
        open_access.apply_for_open_access(db, actor=actor, code=STATS, purpose="x")
    with pytest.raises(ResourceNotFound):
        open_access.apply_for_open_access(db, actor=actor, code="330100-land.real-estate", purpose="x")
    with pytest.raises(ValidationFailed):
        open_access.apply_for_open_access(db, actor=actor, code=resource.code, purpose="  ")
    application = open_access.apply_for_open_access(db, actor=actor, code=resource.code, purpose="统计研究")
    with pytest.raises(NotAllowed):
        open_access.decide_open_application(
            db, actor=actor, application_id=application.id, approve=True, reason=None
        )
    with pytest.raises(ValidationFailed):
        open_access.decide_open_application(
            db, actor=hub.steward, application_id=application.id, approve=False, reason=" "
        )
    assert [a.id for a, _ in open_access.list_open_applications(db, actor=hub.steward, status="pending")] == [
        application.id
    ]
    open_access.decide_open_application(
        db, actor=hub.steward, application_id=application.id, approve=False, reason="用途不明确"
    )
    with pytest.raises(OpenApplicationClosed):
        open_access.decide_open_application(
            db, actor=hub.steward, application_id=application.id, approve=True, reason=None
        )
    assert not open_access.has_open_access(db, actor=actor, resource=resource)
    with pytest.raises(NotOpen):
        opendata.open_view(db, actor=actor, code=resource.code)
    with pytest.raises(NotOpen):
        opendata.open_view(db, actor=ANONYMOUS, code=resource.code)
    renewed = open_access.apply_for_open_access(
        db, actor=actor, code=resource.code, purpose="统计研究（补充说明）"
    )
    assert renewed.id != application.id and renewed.status == "pending"


def test_a_steward_decides_over_the_api(client: TestClient, db: Session, hub: DatahubWorld) -> None:
    from .test_catalogue import steward_session

    resource = restricted_resource(db, hub)
    scoped, _ = api_client(db, org_id=hub.data_bureau.id, scopes=["datahub.open.apply"])
    application = open_access.apply_for_open_access(
        db, actor=client_actor(scoped), code=resource.code, purpose="统计研究"
    )
    db.flush()
    headers = steward_session(client, db)
    pending = client.get("/api/datahub/open/applications", params={"status": "pending"}).json()
    assert [a["resource_code"] for a in pending] == [resource.code]
    decided = client.post(
        f"/api/datahub/open/applications/{application.id}/decision",
        json={"approve": False, "reason": "请说明用途"},
        headers=headers,
    )
    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "refused" and decided.json()["reason"] == "请说明用途"
    twice = client.post(
        f"/api/datahub/open/applications/{application.id}/decision", json={"approve": True}, headers=headers
    )
    assert twice.status_code == 409
    assert twice.json()["type"] == "/problems/datahub/open-application-closed"


def test_a_district_filter_uses_the_region_but_never_a_fallback_region(
    db: Session, hub: DatahubWorld
) -> None:
    # The register's region comes from `district`, else from the holder's ID number: a record without a
    # district has its holder's region (330106) but must not match `district=330106`.
    resource = restricted_resource(db, hub)
    load(
        db,
        resource,
        [estate_row(hub, 1), estate_row(hub, 2, district="330102"), estate_row(hub, 3, district="")],
    )
    scoped, _ = api_client(db, org_id=hub.data_bureau.id, scopes=["datahub.open.apply"])
    actor = client_actor(scoped)
    application = open_access.apply_for_open_access(db, actor=actor, code=resource.code, purpose="统计研究")
    open_access.decide_open_application(
        db, actor=hub.steward, application_id=application.id, approve=True, reason=None
    )
    view = opendata.open_view(db, actor=actor, code=resource.code)

    def districts(**filters: str) -> list[str]:
        query = opendata.RecordQuery(filters=filters, sort=["district"])
        rows, total = opendata.list_open_records(db, view=view, query=query, page=1, per_page=10)
        assert total == len(rows)
        return [r["district"] for r in rows]

    assert districts(district="330106") == ["330106"]
    assert districts(district="330102") == ["330102"]
    assert districts(district="") == [""]
    assert districts() == ["", "330102", "330106"]
    assert districts(usage="住宅", area="89.5") == ["", "330102", "330106"]
    assert districts(area="89.0") == []


def test_the_open_api_limits_requests_per_address(
    settings: Settings, session_factory: sessionmaker[Session], keys: KeyStore, hub: DatahubWorld
) -> None:
    limited = settings.model_copy(
        update={"datahub": settings.datahub.model_copy(update={"open_rate_per_minute": 2})}
    )
    with TestClient(create_app(limited, session_factory=session_factory, keys=keys)) as http:
        assert [http.get(OPEN).status_code for _ in range(2)] == [200, 200]
        refused = http.get(f"{OPEN}/{STATS}/records")
        assert refused.status_code == 429
        assert refused.json()["type"] == "/problems/rate-limited"
        assert 1 <= int(refused.headers["retry-after"]) <= 60


def test_the_per_minute_limit_forgets_each_minute() -> None:
    now = [120.0]
    limit = PerMinuteLimit(2, monotonic=lambda: now[0])
    assert [limit.hit("a"), limit.hit("a"), limit.hit("b")] == [None, None, None]
    now[0] = 150.0
    assert limit.hit("a") == 30
    now[0] = 180.0
    assert limit.hit("a") is None
