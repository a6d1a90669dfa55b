"""Migration 0005 (ADR 0001) carries records and their versions over into system-versioned storage."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Boolean, Integer, String, Uuid, column, insert, select, table
from sqlalchemy.orm import Session

from zerotrip.common import clock
from zerotrip.datahub import catalogue, feed
from zerotrip.datahub.models import Batch, Objection, Record, RecordHistory
from zerotrip.datahub.records import list_record_versions, next_change_seqs, upsert_record
from zerotrip.db import JSONType, UTCDateTime, make_engine, make_sessionmaker, transaction
from zerotrip.identity import actions
from zerotrip.identity.actor import system
from zerotrip.migrations import upgrade

from .conftest import county_stats_spec

T1 = datetime(2024, 1, 1, 8, 0, tzinfo=UTC)
ROOT = system("test")

old_record = table(
    "datahub_record",
    column("id", Integer),
    column("resource_id", Integer),
    column("record_key", String),
    column("subject_key", String),
    column("division_code", String),
    column("data", JSONType),
    column("version", Integer),
    column("is_deleted", Boolean),
    column("updated_at", UTCDateTime()),
    column("batch_id", Uuid),
)
old_version = table(
    "datahub_record_version",
    column("id", Integer),
    column("record_id", Integer),
    column("resource_id", Integer),
    column("version", Integer),
    column("operation", String),
    column("record_key", String),
    column("division_code", String),
    column("data", JSONType),
    column("batch_id", Uuid),
    column("changed_by", String),
    column("changed_at", UTCDateTime()),
)


def row(district: str, registrations: str) -> dict[str, Any]:
    return {"district": district, "month": "2024-01", "registrations": registrations}


def test_versions_become_history_and_old_cursors_still_resume(new_database: Callable[..., str]) -> None:
    engine = make_engine(new_database(migrate=False))
    factory = make_sessionmaker(engine)
    try:
        upgrade(engine, "0004")
        with factory() as db, transaction(db):
            province = actions.create_organisation(
                db, actor=ROOT, kind="province", code="330000", name="浙江省", division_code="330000"
            )
            resource = catalogue.catalogue_resource(db, actor=ROOT, spec=county_stats_spec(province.id))
            batch = Batch(
                resource_id=resource.id,
                source="cli",
                format="csv",
                status="completed",
                report={},
                submitted_by="staff:alice",
                started_at=T1,
            )
            db.add(batch)
            db.flush()
            rid, bid = resource.id, batch.id
            t2, t3 = T1 + timedelta(days=1), T1 + timedelta(days=2)
            # Record 1: loaded, deleted, loaded again. Record 2: loaded once.
            db.execute(
                insert(old_record),
                [
                    {"id": 1, "resource_id": rid, "record_key": "330106\x1f2024-01", "subject_key": "330106"}
                    | {"division_code": "330106", "data": row("330106", "7"), "version": 3}
                    | {"is_deleted": False, "updated_at": t3, "batch_id": None},
                    {"id": 2, "resource_id": rid, "record_key": "330102\x1f2024-01", "subject_key": "330102"}
                    | {"division_code": "330102", "data": row("330102", "4"), "version": 1}
                    | {"is_deleted": False, "updated_at": T1, "batch_id": bid},
                ],
            )
            common = {"resource_id": rid, "division_code": "330106", "record_key": "330106\x1f2024-01"}
            db.execute(
                insert(old_version),
                [
                    common
                    | {"id": 10, "record_id": 1, "version": 1, "operation": "upsert"}
                    | {
                        "data": row("330106", "5"),
                        "batch_id": bid,
                        "changed_by": "staff:alice",
                        "changed_at": T1,
                    },
                    common
                    | {"id": 11, "record_id": 2, "version": 1, "operation": "upsert"}
                    | {
                        "record_key": "330102\x1f2024-01",
                        "division_code": "330102",
                        "data": row("330102", "4"),
                    }
                    | {"batch_id": bid, "changed_by": "staff:alice", "changed_at": T1},
                    common
                    | {"id": 12, "record_id": 1, "version": 2, "operation": "delete", "data": {}}
                    | {"batch_id": None, "changed_by": "staff:bob", "changed_at": t2},
                    common
                    | {"id": 13, "record_id": 1, "version": 3, "operation": "upsert"}
                    | {
                        "data": row("330106", "7"),
                        "batch_id": None,
                        "changed_by": "staff:carol",
                        "changed_at": t3,
                    },
                ],
            )
            db.add(
                Objection(
                    number="OB0000000001",
                    resource_id=rid,
                    record_id=1,
                    field="registrations",
                    raised_by="client:x",
                    claim="wrong",
                    status="open",
                    raised_at=t3,
                    due_at=t3 + timedelta(days=10),
                )
            )
        upgrade(engine)

        with factory() as db:
            first, second = db.scalars(select(Record).order_by(Record.id)).all()
            assert (first.changed_by, first.change_seq, first.version) == ("staff:carol", 13, 3)
            assert (second.changed_by, second.change_seq, second.batch_id) == ("staff:alice", 11, bid)
            states = list_record_versions(db, record=first)
            assert [(s.version, s.is_deleted, s.changed_by) for s in states] == [
                (1, False, "staff:alice"),
                (2, True, "staff:bob"),
                (3, False, "staff:carol"),
            ]
            assert [s.superseded_at for s in states] == [t2, t3, None]
            assert states[0].data["registrations"] == "5" and states[0].batch_id == bid
            assert db.scalars(select(RecordHistory.change_seq).order_by(RecordHistory.id)).all() == [10, 12]
            assert db.scalar(select(Objection.record_id)) == 1  # set aside and back on SQLite
            assert next_change_seqs(db, resource_id=rid, count=1)[0] > 13

            # A consumer that had read up to version id 11 (record 2) gets record 1's latest state once.
            page = feed.read_feed(db, actor=ROOT, code=county_stats_spec(0).code, after="11")
            assert [(i.record_key, i.version, i.data["registrations"]) for i in page.items] == [
                ("330106\x1f2024-01", 3, "7")
            ]
            assert feed.read_feed(db, actor=ROOT, code=county_stats_spec(0).code, after="13").items == []
    finally:
        engine.dispose()


def test_a_record_changed_twice_between_reads_arrives_once_in_its_latest_state(db: Session) -> None:
    province = actions.create_organisation(
        db, actor=ROOT, kind="province", code="330000", name="浙江省", division_code="330000"
    )
    resource = catalogue.catalogue_resource(db, actor=ROOT, spec=county_stats_spec(province.id))
    with clock.frozen(T1):
        upsert_record(db, resource=resource, data=row("330106", "1"), changed_by="test")
        upsert_record(db, resource=resource, data=row("330102", "1"), changed_by="test")
        db.flush()
        start = feed.read_feed(db, actor=ROOT, code=resource.code, lag_seconds=0)
        assert len(start.items) == 2
    with clock.frozen(T1 + timedelta(hours=1)):
        upsert_record(db, resource=resource, data=row("330106", "2"), changed_by="test")
        db.flush()
        upsert_record(db, resource=resource, data=row("330106", "3"), changed_by="test")
        db.flush()
        page = feed.read_feed(db, actor=ROOT, code=resource.code, after=start.next_cursor, lag_seconds=0)
    assert [(i.record_key, i.version, i.data["registrations"]) for i in page.items] == [
        ("330106\x1f2024-01", 3, "3")
    ]
    record = db.scalars(select(Record).where(Record.record_key == "330106\x1f2024-01")).one()
    assert [s.data["registrations"] for s in list_record_versions(db, record=record)] == ["1", "2", "3"]
