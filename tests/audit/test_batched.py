"""``batched``: the events a use case records through ``record_events`` written with one INSERT at the end,
as ``record_events`` would have written each, in the order recorded."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
from sqlalchemy import Table, delete, event, func, select
from sqlalchemy.orm import Session

from zerotrip.audit.actions import batched, record_event, record_events
from zerotrip.audit.checkpoints import VerifyReport, seal_checkpoint, verify_log
from zerotrip.audit.digest import event_digest
from zerotrip.audit.models import AuditCheckpoint, AuditEvent
from zerotrip.common import clock
from zerotrip.keys import KeyStore

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
EVENTS = cast(Table, AuditEvent.__table__)


@pytest.fixture(autouse=True)
def empty_log(db: Session) -> None:
    db.execute(delete(AuditCheckpoint))
    db.execute(delete(AuditEvent))


@pytest.fixture
def inserts(db: Session) -> Iterator[list[str]]:
    """The INSERT statements into audit_event run meanwhile."""
    seen: list[str] = []

    def on(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO AUDIT_EVENT"):
            seen.append(statement)

    engine = db.get_bind().engine  # type: ignore[union-attr]
    event.listen(engine, "before_cursor_execute", on)
    yield seen
    event.remove(engine, "before_cursor_execute", on)


def count(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(EVENTS)) or 0


def read(db: Session, subject: str, n: int) -> None:
    record_events(
        db,
        actor="client:platform",
        action="datahub.record.read",
        events=[("person", subject, {"records": n, "fields": ["name"], "ratio": 0.5 * n})],
    )


def test_the_events_of_a_block_are_written_at_its_end_in_one_insert(
    db: Session, keys: KeyStore, inserts: list[str]
) -> None:
    with batched(db):
        with clock.frozen(T0):
            read(db, "p1", 1)
        with clock.frozen(T0 + timedelta(seconds=1)):
            read(db, "p2", 2)
            with batched(db):  # a nested block adds to the outer one
                read(db, "p3", 3)
        db.flush()
        assert count(db) == 0 and inserts == []  # kept, not flushed with the session
        with clock.frozen(T0 + timedelta(seconds=2)):
            record_events(
                db,
                actor="citizen:c1",
                action="services.application.consented",
                events=[("service_application", "A1", {"fetched": [1, 2, 3]})],
            )
    assert len(inserts) == 1
    rows = db.execute(select(EVENTS).order_by(EVENTS.c.id)).mappings().all()
    assert [(r["actor"], r["subject_id"]) for r in rows] == [
        ("client:platform", "p1"),
        ("client:platform", "p2"),
        ("client:platform", "p3"),
        ("citizen:c1", "A1"),
    ]
    assert [r["occurred_at"] for r in rows] == [
        T0,
        T0 + timedelta(seconds=1),
        T0 + timedelta(seconds=1),
        T0 + timedelta(seconds=2),
    ]
    for row in rows:
        assert row["digest"] == event_digest(
            occurred_at=row["occurred_at"],
            actor=row["actor"],
            action=row["action"],
            subject_type=row["subject_type"],
            subject_id=row["subject_id"],
            data=row["data"],
            request_id=row["request_id"],
        )
    with clock.frozen(T0 + timedelta(hours=1)):
        assert seal_checkpoint(db, keys=keys, max_events=100, lag_seconds=30) is not None
    assert verify_log(db, keys=keys) == VerifyReport(
        ok=True, checked_events=4, checkpoints=1, unsealed_events=0
    )


def test_events_kept_before_an_error_are_still_written(db: Session) -> None:
    with pytest.raises(LookupError), batched(db):
        read(db, "p1", 1)
        raise LookupError("the next material could not be read")
    assert db.execute(select(EVENTS.c.subject_id)).scalars().all() == ["p1"]
    # The session is no longer batching: the next call writes at once.
    read(db, "p2", 2)
    assert count(db) == 2


def test_orm_events_added_in_the_block_are_written_first(db: Session) -> None:
    with batched(db):
        read(db, "p1", 1)
        record_event(db, actor="staff:s1", action="x.y.done", subject_type="person", subject_id="p9")
    assert db.execute(select(EVENTS.c.subject_id).order_by(EVENTS.c.id)).scalars().all() == ["p9", "p1"]
