"""The gateway's per-worker catalogue cache never outlives a revision, and grants are never cached: a
revoked grant stops the very next read, through the API as in process."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.orm import Session

from zerotrip.datahub import catalogue, gateway, sharing
from zerotrip.datahub.cache import CatalogueCache
from zerotrip.datahub.schemas import FieldSpec
from zerotrip.datahub.schemas_sharing import SubjectResult

from .conftest import DatahubWorld, real_estate_spec
from .sharing_world import PURPOSE, audit_count, bearer, grant_real_estate, load_titles, read_events

READ = "datahub.record.read"


class Ticks:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def read(db: Session, hub: DatahubWorld, cache: CatalogueCache) -> SubjectResult:
    (result,) = gateway.lookup(
        db,
        actor=hub.consumer_actor(db),
        resource_code=hub.real_estate.code,
        subject_keys=[hub.residents[0]],
        purpose=PURPOSE,
        catalogue=cache,
    )
    return result


def test_a_revision_is_seen_by_the_next_read(db: Session, hub: DatahubWorld) -> None:
    load_titles(db, hub)
    grant_real_estate(db, hub)
    cache = CatalogueCache(3600)
    area = read(db, hub, cache).records[0].fields["area"]
    assert not area.masked and area.value == "89.50"  # grade 1
    spec = real_estate_spec(hub.land.id)
    spec.fields = [f.model_copy(update={"grade": 2}) if f.name == "area" else f for f in spec.fields] + [
        FieldSpec(name="floor", title="所在楼层", type="integer", grade=1)
    ]
    catalogue.revise_resource(db, actor=hub.steward, code=hub.real_estate.code, spec=spec)
    area = read(db, hub, cache).records[0].fields["area"]
    assert area.masked and area.value == "***"  # now grade 2, so masked under this grant


def test_describe_reads_only_the_stamp_when_kept_and_sees_a_revision(db: Session, hub: DatahubWorld) -> None:
    cache = CatalogueCache(3600)
    assert gateway.describe(db, "no-such-resource", catalogue=cache) is None
    first = gateway.describe(db, hub.real_estate.code, catalogue=cache)
    assert first is not None and first.title == "不动产登记信息"
    assert first.owner_name == "杭州市自然资源和规划局"
    assert (first.fields["area"].title, first.fields["area"].grade) == ("建筑面积（平方米）", 1)
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    engine = db.get_bind()
    event.listen(engine, "before_cursor_execute", count)
    try:
        assert gateway.describe(db, hub.real_estate.code, catalogue=cache) is first  # the kept entry
        assert len(statements) == 1  # the version stamp, nothing else
    finally:
        event.remove(engine, "before_cursor_execute", count)
    spec = real_estate_spec(hub.land.id)
    spec.title = "不动产登记信息（修订）"
    spec.fields = [f.model_copy(update={"title": "面积"}) if f.name == "area" else f for f in spec.fields]
    catalogue.revise_resource(db, actor=hub.steward, code=hub.real_estate.code, spec=spec)
    revised = gateway.describe(db, hub.real_estate.code, catalogue=cache)
    assert revised is not None and revised.version == first.version + 1
    assert (revised.title, revised.fields["area"].title) == ("不动产登记信息（修订）", "面积")


def test_the_owners_name_is_refreshed_after_the_cache_time(db: Session, hub: DatahubWorld) -> None:
    load_titles(db, hub)
    grant_real_estate(db, hub)
    ticks = Ticks()
    cache = CatalogueCache(60, monotonic=ticks)
    assert read(db, hub, cache).records[0].source == "杭州市自然资源和规划局"
    hub.land.name = "杭州市规划和自然资源局"  # no revision of the resource stamps a renamed owner
    db.flush()
    assert read(db, hub, cache).records[0].source == "杭州市自然资源和规划局"
    ticks.now += 60
    assert read(db, hub, cache).records[0].source == "杭州市规划和自然资源局"


def test_a_cache_without_time_keeps_nothing(db: Session, hub: DatahubWorld) -> None:
    load_titles(db, hub)
    grant_real_estate(db, hub)
    cache = CatalogueCache(0)
    read(db, hub, cache)
    assert cache.get(hub.real_estate.id, version=1, updated_at=hub.real_estate.updated_at) is None


def test_a_grant_revoked_between_two_calls_stops_the_second(
    client: TestClient, db: Session, hub: DatahubWorld
) -> None:
    load_titles(db, hub)
    grant = grant_real_estate(db, hub)
    consumer = bearer(db, hub.consumer, hub.consumer_secret)
    url = f"/api/datahub/gateway/{hub.real_estate.code}/lookup"
    body = {"subjects": [hub.residents[0]], "purpose": PURPOSE}
    assert client.post(url, json=body, headers=consumer).status_code == 200  # token and catalogue cached
    before = audit_count(db, READ)
    sharing.revoke_grant(db, actor=hub.steward, grant_id=grant.id, reason="用途已结束")
    db.flush()
    refused = client.post(url, json=body, headers=consumer)
    assert refused.status_code == 403
    assert refused.json()["type"] == "/problems/datahub/no-grant"
    assert audit_count(db, READ) == before


def test_the_audit_event_carries_the_callers_request_id(
    client: TestClient, db: Session, hub: DatahubWorld
) -> None:
    load_titles(db, hub)
    grant_real_estate(db, hub)
    consumer = bearer(db, hub.consumer, hub.consumer_secret) | {"X-Request-ID": "hf-2026-0001"}
    body = {"subjects": [hub.residents[0]], "purpose": PURPOSE}
    response = client.post(f"/api/datahub/gateway/{hub.real_estate.code}/lookup", json=body, headers=consumer)
    assert response.status_code == 200 and response.headers["x-request-id"] == "hf-2026-0001"
    (event,) = read_events(db, hub.residents[0])
    assert event.request_id == "hf-2026-0001"
