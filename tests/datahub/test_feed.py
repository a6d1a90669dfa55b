"""Return feeds: resumable without loss or duplicates, cut to a region, limited by the caller's grants."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from zerotrip.audit.models import AuditEvent
from zerotrip.common import clock
from zerotrip.datahub import catalogue, feed
from zerotrip.datahub.errors import NoGrant, RegionNotCovered
from zerotrip.datahub.models import Grant, Record, Resource
from zerotrip.datahub.records import delete_record, next_change_seqs, upsert_record
from zerotrip.db import make_engine, make_sessionmaker, transaction
from zerotrip.identity import actions
from zerotrip.identity.actor import Actor, system
from zerotrip.identity.models import ApiClient, Organisation
from zerotrip.problems import ValidationFailed

from .conftest import DatahubWorld, county_stats_spec
from .open_helpers import COUNTY_ROWS, api_client, bearer, client_actor, estate_row

T0 = datetime(2024, 6, 3, 9, 0, tzinfo=UTC)
ESTATE_FIELDS = ["certificate_no", "holder_id", "holder_name", "area", "district"]


def county(db: Session, hub: DatahubWorld, code: str, name: str) -> Organisation:
    return actions.create_organisation(
        db,
        actor=system("test"),
        kind="county",
        code=code,
        name=name,
        division_code=code,
        parent_id=hub.hangzhou.id,
    )


def grant(
    db: Session,
    resource: Resource,
    client: ApiClient,
    fields: list[str],
    *,
    is_clear: bool = False,
    **extra: Any,
) -> Grant:
    row = Grant(
        id=uuid.uuid4(),
        resource_id=resource.id,
        consumer_client_id=client.client_id,
        fields=fields,
        purpose="回流：区县平台数据同步",
        is_clear=is_clear,
        granted_by="test",
        granted_at=T0 - timedelta(days=1),
        expires_at=extra.pop("expires_at", T0 + timedelta(days=365)),
        **extra,
    )
    db.add(row)
    db.flush()
    return row


@pytest.fixture
def xihu(db: Session, hub: DatahubWorld) -> tuple[ApiClient, Actor]:
    """西湖区's data platform, holding a grant for part of the real-estate register."""
    org = county(db, hub, "330106", "西湖区")
    client, _ = api_client(db, org_id=org.id, scopes=[], name="西湖区公共数据平台")
    grant(db, hub.real_estate, client, ESTATE_FIELDS)
    return client, client_actor(client)


def write(db: Session, hub: DatahubWorld, at: datetime, numbers: list[int], district: str = "330106") -> None:
    with clock.frozen(at):
        for n in numbers:
            upsert_record(
                db, resource=hub.real_estate, data=estate_row(hub, n, district=district), changed_by="test"
            )
    db.flush()


def read(db: Session, actor: Actor, *, at: datetime, **kwargs: Any) -> feed.FeedPage:
    with clock.frozen(at):
        return feed.read_feed(db, actor=actor, code=hub_code(), **kwargs)


def hub_code() -> str:
    return "330100-land.real-estate"


def expected_ids(db: Session, hub: DatahubWorld, after: int, prefix: str = "330106") -> list[str]:
    ids = db.scalars(
        select(Record.change_seq)
        .where(
            Record.resource_id == hub.real_estate.id,
            Record.change_seq > after,
            Record.division_code.like(prefix + "%"),
        )
        .order_by(Record.change_seq)
    ).all()
    return [str(i) for i in ids]


def test_the_feed_resumes_without_loss_or_duplicates(
    db: Session, hub: DatahubWorld, xihu: tuple[ApiClient, Actor]
) -> None:
    _, actor = xihu
    write(db, hub, T0, [1, 2, 3, 4, 5])
    write(db, hub, T0, [6, 7], district="330102")  # another county: never in 西湖区's feed
    first = read(db, actor, at=T0 + timedelta(minutes=1), limit=3)
    assert first.has_more and len(first.items) == 3 and first.region == "330106"
    second = read(db, actor, at=T0 + timedelta(minutes=1), after=first.next_cursor, limit=3)
    assert not second.has_more
    seen = [i.cursor for i in first.items + second.items]
    assert seen == expected_ids(db, hub, 0) and len(seen) == 5

    # A load in between: new records, a changed one, a deletion, and more in the other county.
    later = T0 + timedelta(minutes=5)
    write(db, hub, later, [8, 9])
    changed = estate_row(hub, 2) | {"area": 101.25}
    with clock.frozen(later):
        upsert_record(db, resource=hub.real_estate, data=changed, changed_by="test")
        gone = db.scalars(
            select(Record).where(Record.record_key == estate_row(hub, 3)["certificate_no"])
        ).one()
        delete_record(db, resource=hub.real_estate, record=gone, changed_by="test")
    write(db, hub, later, [10], district="330102")

    resumed: list[feed.FeedItem] = []
    cursor = second.next_cursor
    while True:
        page = read(db, actor, at=later + timedelta(minutes=1), after=cursor, limit=2)
        resumed += page.items
        cursor = page.next_cursor
        if not page.has_more:
            break
    assert [i.cursor for i in resumed] == expected_ids(db, hub, int(second.next_cursor))
    key = {n: estate_row(hub, n)["certificate_no"] for n in (2, 3, 8, 9)}
    assert [(i.operation, i.record_key) for i in resumed] == [
        ("upsert", key[8]),
        ("upsert", key[9]),
        ("upsert", key[2]),
        ("delete", key[3]),
    ]
    assert resumed[2].data["area"] == 101.25 and resumed[2].version == 2
    assert resumed[3].data == {} and resumed[3].version == 2
    assert len({i.cursor for i in first.items + second.items + resumed}) == 9
    # Nothing new: the cursor stays where it is.
    idle = read(db, actor, at=later + timedelta(minutes=2), after=cursor)
    assert idle.items == [] and idle.next_cursor == cursor and not idle.has_more


def test_changes_younger_than_the_lag_wait(
    db: Session, hub: DatahubWorld, xihu: tuple[ApiClient, Actor]
) -> None:
    _, actor = xihu
    write(db, hub, T0, [1])
    assert read(db, actor, at=T0 + timedelta(seconds=1), lag_seconds=2).items == []
    assert len(read(db, actor, at=T0 + timedelta(seconds=2), lag_seconds=2).items) == 1


def test_a_city_platform_gets_its_whole_city_and_a_county_only_its_own(
    db: Session, hub: DatahubWorld, xihu: tuple[ApiClient, Actor]
) -> None:
    _, county_actor = xihu
    write(db, hub, T0, [1, 2])
    write(db, hub, T0, [3], district="330102")
    write(db, hub, T0, [4], district="330281")  # 余姚 (宁波): outside Hangzhou
    at = T0 + timedelta(minutes=1)
    with pytest.raises(RegionNotCovered):
        read(db, county_actor, at=at, region="330102")
    with pytest.raises(RegionNotCovered):
        read(db, county_actor, at=at, region="330100")
    assert {i.data["district"] for i in read(db, county_actor, at=at).items} == {"330106"}

    city, _ = api_client(db, org_id=hub.hangzhou.id, scopes=[], name="杭州市公共数据平台")
    grant(db, hub.real_estate, city, ESTATE_FIELDS)
    city_actor = client_actor(city)
    whole = read(db, city_actor, at=at)
    assert whole.region == "330100"
    assert sorted(i.data["district"] for i in whole.items) == ["330102", "330106", "330106"]
    one = read(db, city_actor, at=at, region="330102")
    assert [i.data["district"] for i in one.items] == ["330102"]
    with pytest.raises(ValidationFailed):
        read(db, city_actor, at=at, region="3301")
    with pytest.raises(ValidationFailed):
        read(db, city_actor, at=at, after="abc")


def test_grants_limit_and_mask_the_data(
    db: Session, hub: DatahubWorld, xihu: tuple[ApiClient, Actor]
) -> None:
    client, actor = xihu
    write(db, hub, T0, [1])
    at = T0 + timedelta(minutes=1)
    item = read(db, actor, at=at).items[0]
    assert sorted(item.data) == sorted(ESTATE_FIELDS)  # no address, usage or date: not granted
    assert item.data["holder_name"] == "张*丰"  # grade 2 without a clear grant
    assert item.data["area"] == 89.5 and item.data["district"] == "330106"
    grant(db, hub.real_estate, client, ["holder_name", "address"], is_clear=True)
    clear = read(db, actor, at=at).items[0]
    assert clear.data["holder_name"] == "张三丰" and clear.data["address"] == "西湖区文三路1号"
    assert clear.data["holder_id"].count("*") == 10  # its only grant is not clear


def test_no_live_grant_no_feed(db: Session, hub: DatahubWorld) -> None:
    org = county(db, hub, "330102", "上城区")
    client, _ = api_client(db, org_id=org.id, scopes=[])
    actor = client_actor(client)
    write(db, hub, T0, [1], district="330102")
    at = T0 + timedelta(minutes=1)
    with pytest.raises(NoGrant):
        read(db, actor, at=at)
    grant(db, hub.real_estate, client, ESTATE_FIELDS, expires_at=T0)
    grant(db, hub.real_estate, client, ESTATE_FIELDS, revoked_at=T0, revoked_by="test")
    with pytest.raises(NoGrant):
        read(db, actor, at=at)
    with pytest.raises(NoGrant):
        read(db, hub.steward, at=at)
    grant(db, hub.real_estate, client, ESTATE_FIELDS)
    assert len(read(db, actor, at=at).items) == 1


def test_each_page_and_each_person_read_is_audited(
    db: Session, hub: DatahubWorld, xihu: tuple[ApiClient, Actor]
) -> None:
    client, actor = xihu
    write(db, hub, T0, [1, 2, 6])  # residents 1 and 6 are the same person (five IDs, reused)
    read(db, actor, at=T0 + timedelta(minutes=1))
    events = db.scalars(select(AuditEvent).where(AuditEvent.actor == f"client:{client.client_id}")).all()
    pages = [e for e in events if e.action == "datahub.feed.read"]
    assert len(pages) == 1 and pages[0].data["changes"] == 3 and pages[0].data["region"] == "330106"
    people = [e for e in events if e.action == feed.RECORD_READ]
    assert sorted(e.subject_id for e in people) == sorted({hub.residents[1], hub.residents[2]})
    assert all(e.subject_type == "person" and e.data["via"] == "return feed" for e in people)


def test_the_feed_over_http(client: TestClient, db: Session, hub: DatahubWorld) -> None:
    org = county(db, hub, "330106", "西湖区")
    consumer, secret = api_client(db, org_id=org.id, scopes=[], name="西湖区公共数据平台")
    grant(db, hub.real_estate, consumer, ESTATE_FIELDS, expires_at=clock.now() + timedelta(days=30))
    # Written an hour ago (the real clock serves the request), so the lag has passed.
    write(db, hub, clock.now() - timedelta(hours=1), [1, 2, 3])
    headers = bearer(client, consumer, secret)
    url = f"/api/datahub/feeds/{hub_code()}"
    first = client.get(url, params={"limit": 2}, headers=headers)
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["has_more"] is True and body["region"] == "330106" and len(body["items"]) == 2
    rest = client.get(url, params={"after": body["next_cursor"]}, headers=headers).json()
    assert [i["record_key"] for i in body["items"] + rest["items"]] == [
        estate_row(hub, n)["certificate_no"] for n in (1, 2, 3)
    ]
    assert client.get(url).status_code == 401
    outside = client.get(url, params={"region": "330102"}, headers=headers)
    assert outside.status_code == 403
    assert outside.json()["type"] == "/problems/datahub/region-not-covered"
    open_stats = client.get(f"/api/datahub/feeds/{hub.county_stats.code}", headers=headers)
    assert open_stats.json()["type"] == "/problems/datahub/no-grant"


@pytest.mark.postgres_only
def test_the_feed_pauses_while_a_write_is_in_flight(new_database: Callable[..., str]) -> None:
    """With real, concurrent transactions: a reader never passes versions a writer has not committed."""
    engine = make_engine(new_database(migrate=True))
    factory = make_sessionmaker(engine)
    root = system("test")
    try:
        with factory() as db, transaction(db):
            province = actions.create_organisation(
                db, actor=root, kind="province", code="330000", name="浙江省", division_code="330000"
            )
            land = actions.create_organisation(
                db,
                actor=root,
                kind="department",
                code="330000-land",
                name="浙江省自然资源厅",
                division_code="330000",
                parent_id=province.id,
            )
            resource = catalogue.catalogue_resource(db, actor=root, spec=county_stats_spec(land.id))
            upsert_record(db, resource=resource, data=COUNTY_ROWS[0], changed_by="test")
        code = resource.code

        def read(after: str = "") -> feed.FeedPage:
            with factory() as db, transaction(db):
                return feed.read_feed(db, actor=root, code=code, after=after, lag_seconds=0)

        first = read()
        assert len(first.items) == 1
        with factory() as writer:
            fresh = writer.get(Resource, resource.id)
            assert fresh is not None
            upsert_record(writer, resource=fresh, data=COUNTY_ROWS[1], changed_by="test")
            writer.flush()  # the version row exists, uncommitted, and the writer holds the resource row
            # Meanwhile a later change number commits (written past the lock, as nothing in zerotrip does).
            with factory() as other, transaction(other):
                record = other.scalars(select(Record).where(Record.resource_id == resource.id)).one()
                (record.change_seq,) = next_change_seqs(other, resource_id=resource.id, count=1)
            paused = read(first.next_cursor)
            assert paused.items == [] and paused.next_cursor == first.next_cursor and not paused.has_more
            writer.commit()
        resumed = read(first.next_cursor)
        assert [i.data["month"] for i in resumed.items] == [COUNTY_ROWS[1]["month"], COUNTY_ROWS[0]["month"]]
        assert int(resumed.items[0].cursor) < int(resumed.items[1].cursor)
    finally:
        engine.dispose()
