"""insert_many stores what SQLAlchemy's own executemany stores, in the order given, and skips only
conflicts, on both engines."""

from __future__ import annotations

import enum
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, cast

import pytest
from sqlalchemy import Column, Enum, Integer, MetaData, Table, insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from zerotrip.audit.models import AuditEvent
from zerotrip.bulk import insert_many
from zerotrip.certificates.models import StatusList, StatusListUsage

EVENTS = cast(Table, AuditEvent.__table__)
USAGE = cast(Table, StatusListUsage.__table__)
CHINA = timezone(timedelta(hours=8))


def event_rows(tag: str, count: int) -> list[dict[str, Any]]:
    at = datetime(2026, 11, 29, 10, 30, 1, 123456, tzinfo=CHINA)
    return [
        {
            "occurred_at": at if i % 2 else at + timedelta(seconds=i),
            "actor": "system:test",
            "action": "test.bulk.written",
            "subject_type": "person",
            "subject_id": f"{tag}-{i:03d}",
            "data": {"名称": "无房证明", "n": i, "nested": {"list": [1, "二", True, None]}, "empty": {}},
            "request_id": None if i % 3 else f"req-{i}",
            "digest": bytes([i % 256]) * 31 + b"\x00",
        }
        for i in range(count)
    ]


def stored(db: Session, tag: str) -> list[tuple[Any, ...]]:
    rows = db.execute(
        select(*[c for c in EVENTS.c if c.name != "id"])
        .where(EVENTS.c.subject_id.like(f"{tag}-%"))
        .order_by(EVENTS.c.id)
    )
    return [tuple(row) for row in rows]


def test_rows_are_stored_as_sqlalchemy_stores_them_in_the_order_given(db: Session) -> None:
    assert insert_many(db, EVENTS, event_rows("bulk", 40)) == 40
    db.execute(insert(EVENTS), event_rows("core", 40))
    ours, theirs = stored(db, "bulk"), stored(db, "core")
    assert len(ours) == 40
    assert [row[4] for row in ours] == [f"bulk-{i:03d}" for i in range(40)]  # ids follow the order given
    assert [row[:4] + row[5:] for row in ours] == [row[:4] + row[5:] for row in theirs]
    first = ours[0]
    assert first[0] == datetime(2026, 11, 29, 2, 30, 1, 123456, tzinfo=UTC)  # the instant, in UTC
    assert first[5] == {"名称": "无房证明", "n": 0, "nested": {"list": [1, "二", True, None]}, "empty": {}}
    assert first[7] == b"\x00" * 32


def test_returning_gives_the_inserted_rows_values(db: Session) -> None:
    ids = insert_many(db, EVENTS, event_rows("ret", 5), returning="id")
    assert sorted(ids) == list(db.scalars(select(EVENTS.c.id).where(EVENTS.c.subject_id.like("ret-%"))))
    assert insert_many(db, EVENTS, [], returning="id") == []
    assert insert_many(db, EVENTS, []) == 0


def test_only_conflicting_rows_are_skipped(db: Session) -> None:
    now = datetime(2026, 11, 29, tzinfo=UTC)
    status_list = StatusList(bits=2, size=16, created_at=now, updated_at=now)
    db.add(status_list)
    db.flush()
    first = [{"list_id": status_list.id, "shard": shard, "used": 1} for shard in (0, 1, 2)]
    assert insert_many(db, USAGE, first, skip_conflicts=True) == 3
    again = [{"list_id": status_list.id, "shard": shard, "used": 5} for shard in (2, 3, 1, 4)]
    assert insert_many(db, USAGE, again, skip_conflicts=True) == 2
    assert sorted(
        insert_many(
            db,
            USAGE,
            [{"list_id": status_list.id, "shard": 5, "used": 1}, again[0]],
            skip_conflicts=True,
            returning="shard",
        )
    ) == [5]
    used = dict(
        db.execute(select(USAGE.c.shard, USAGE.c.used).where(USAGE.c.list_id == status_list.id)).all()
    )
    assert used == {0: 1, 1: 1, 2: 1, 3: 5, 4: 5, 5: 1}
    # A NOT NULL violation is not a conflict.
    with pytest.raises(IntegrityError), db.begin_nested():
        insert_many(db, USAGE, [{"list_id": status_list.id, "shard": 9, "used": None}], skip_conflicts=True)
    # Nor is a conflict without skip_conflicts.
    with pytest.raises(IntegrityError), db.begin_nested():
        insert_many(db, USAGE, first)


class Colour(enum.Enum):
    RED = "r"
    BLUE = "b"


def test_enums_are_stored_by_name_as_sqlalchemy_stores_them(db: Session) -> None:
    table = Table(
        "test_bulk_colour",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("colour", Enum(Colour)),
    )
    table.create(db.connection())  # rolled back with the test
    insert_many(db, table, [{"id": 1, "colour": Colour.RED}, {"id": 2, "colour": Colour.BLUE}])
    db.execute(insert(table), [{"id": 3, "colour": Colour.RED}])
    assert db.execute(select(table.c.colour).order_by(table.c.id)).scalars().all() == [
        Colour.RED,
        Colour.BLUE,
        Colour.RED,
    ]
    stored = db.execute(text("SELECT CAST(colour AS TEXT) FROM test_bulk_colour ORDER BY id")).scalars()
    assert stored.all() == ["RED", "BLUE", "RED"]
