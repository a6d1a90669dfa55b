"""The inbox and marking read as the API serves them, on a database of their own (so on PostgreSQL the
single statements really run in autocommit, as in production): the inbox's JSON is exactly what the
models would have written, and marking read keeps receipts and tallies exact when it is its own commit."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from zerotrip.app import create_app
from zerotrip.config import Settings
from zerotrip.db import make_engine, make_sessionmaker, one_statement, transaction
from zerotrip.deps import SESSION_COOKIE
from zerotrip.identity import actions
from zerotrip.keys import KeyStore
from zerotrip.messaging import notices_inbox, notices_queries, notices_receipts
from zerotrip.messaging.errors_notices import NoticeNotFound
from zerotrip.messaging.models_notices import NoticeReceipt, NoticeTally
from zerotrip.messaging.schemas_notices import TargetSpec

from .notices_world import ROOT, NoticesWorld, build_notices_world, sign_in_api

BASE = "/api/messaging/notices"


@pytest.fixture
def engine_of_its_own(new_database: Callable[..., str]) -> Iterator[Engine]:
    engine = make_engine(new_database(migrate=True))
    yield engine
    engine.dispose()


@pytest.fixture
def factory(engine_of_its_own: Engine) -> sessionmaker[Session]:
    return make_sessionmaker(engine_of_its_own)


@pytest.fixture
def world(factory: sessionmaker[Session]) -> NoticesWorld:
    with factory() as db, transaction(db):
        return build_notices_world(db)


def tallies(db: Session, notice_id: int) -> set[tuple[int, int, int]]:
    rows = db.scalars(select(NoticeTally).where(NoticeTally.notice_id == notice_id)).all()
    return {(t.org_id, t.read_count, t.acked_count) for t in rows}


def test_the_inbox_json_is_what_the_models_write(factory: sessionmaker[Session], world: NoticesWorld) -> None:
    with factory() as db, transaction(db):
        normal = world.publish(db, "hz-pub", targets=[TargetSpec(division_code="330106")])
        urgent = world.publish(
            db,
            "hz-pub",
            priority="urgent",
            requires_ack=True,
            targets=[TargetSpec(division_code="330106")],
            form=[{"key": "evacuated", "label": "转移人数", "unit": "人"}],
        )
        city = world.publish(db, targets=[TargetSpec(division_code="330100")])
    reader = world.staff["xh-health-1"]
    with factory() as db, one_statement(db):
        notices_receipts.mark_read(db, actor=reader, notice_id=urgent.id)
    for options in ({}, {"unread_only": True}, {"per_page": 1, "page": 2}, {"page": 9}):
        with factory() as db, one_statement(db):
            answer = orjson.loads(notices_inbox.inbox_json(db, actor=reader, **options))  # type: ignore[arg-type]
        with factory() as db, transaction(db):
            expected = notices_queries.list_inbox(db, actor=reader, **options).model_dump(mode="json")  # type: ignore[arg-type]
        assert answer == expected, options
    with factory() as db:
        page = notices_queries.list_inbox(db, actor=reader)
    assert [(i.id, i.has_form, i.read_at is not None) for i in page.items] == [
        (city.id, False, False),
        (urgent.id, True, True),
        (normal.id, False, False),
    ]
    assert page.total == 3 and page.unread == 2


def test_marking_read_on_its_own_commit_counts_once(
    factory: sessionmaker[Session], world: NoticesWorld
) -> None:
    with factory() as db, transaction(db):
        notice = world.publish(db, "hz-pub", requires_ack=True, targets=[TargetSpec(division_code="330100")])
    two = world.staff["two-units"]
    with factory() as db, one_statement(db):
        first = notices_receipts.mark_read(db, actor=two, notice_id=notice.id)
    with factory() as db, one_statement(db):
        again = notices_receipts.mark_read(db, actor=two, notice_id=notice.id)
    assert (again.read_at, again.acked_at, sorted(again.units)) == (first.read_at, None, sorted(first.units))
    assert sorted(first.units) == sorted([world.orgs["330106-health"], world.orgs["330108-emergency"]])
    with factory() as db:
        assert tallies(db, notice.id) == {
            (world.orgs["330106-health"], 1, 0),
            (world.orgs["330108-emergency"], 1, 0),
        }
    with factory() as db, one_statement(db), pytest.raises(NoticeNotFound):
        notices_receipts.mark_read(db, actor=world.staff["hs-em-1"], notice_id=notice.id)
    with factory() as db, one_statement(db), pytest.raises(NoticeNotFound):
        notices_receipts.mark_read(db, actor=two, notice_id=notice.id + 1000)
    with factory() as db:
        assert db.scalar(select(func.count()).select_from(NoticeReceipt)) == 2

    # Acknowledged, then reached in one unit more: the new receipt inherits it and is counted acknowledged.
    with factory() as db, transaction(db):
        acked = notices_receipts.acknowledge(db, actor=world.staff["xh-em-1"], notice_id=notice.id)
        actions.add_staff_member(
            db, actor=ROOT, org_id=world.orgs["330108-emergency"], login_name="xh-em-1", display_name="冯审核"
        )
    with factory() as db:
        moved = world.actor(db, "xh-em-1")
    with factory() as db, one_statement(db):
        state = notices_receipts.mark_read(db, actor=moved, notice_id=notice.id)
    assert (state.read_at, state.acked_at) == (acked.read_at, acked.acked_at)
    with factory() as db:
        assert tallies(db, notice.id) == {
            (world.orgs["330106-health"], 1, 0),
            (world.orgs["330106-emergency"], 1, 1),
            (world.orgs["330108-emergency"], 2, 1),
        }


def test_inbox_and_read_over_http(
    factory: sessionmaker[Session], world: NoticesWorld, settings: Settings, keys: KeyStore
) -> None:
    with factory() as db, transaction(db):
        notice = world.publish(db, "hz-pub", priority="urgent", targets=[TargetSpec(division_code="330106")])
    app = create_app(settings, session_factory=factory, keys=keys)
    with TestClient(app, base_url="http://testserver") as client:
        assert client.get(f"{BASE}/inbox").status_code == 401
        with factory() as db, transaction(db):
            headers = sign_in_api(client, db, "xh-health-1")
        inbox = client.get(f"{BASE}/inbox")
        assert inbox.status_code == 200 and inbox.headers["content-type"] == "application/json"
        assert [(i["id"], i["read_at"]) for i in inbox.json()["items"]] == [(notice.id, None)]
        assert client.post(f"{BASE}/{notice.id}/read").status_code == 403, "the CSRF header is needed"
        read = client.post(f"{BASE}/{notice.id}/read", headers=headers)
        assert read.status_code == 200, read.text
        assert read.json()["units"] == [world.orgs["330106-health"]] and read.json()["acked_at"] is None
        after = client.get(f"{BASE}/inbox").json()
        assert after["unread"] == 0 and after["items"][0]["read_at"] == read.json()["read_at"]
        client.cookies.set(SESSION_COOKIE, "zs_not-a-session")
        assert client.get(f"{BASE}/inbox").status_code == 401
