"""Status entries and certificate rows: drawing free entries of the status lists, inserting certificates
with one statement, counting what each list has used. Never commits.

Entries are random free indices of the newest list (herd privacy), checked against the taken ones; the
insert skips a row whose number or entry another transaction took meanwhile, and says which, so the caller
draws and signs those again.

What a list has used is counted in ``USAGE_SHARDS`` rows per list (``StatusListUsage``): an issue adds to
one picked at random (an upsert), so concurrent issues seldom wait for each other's row lock, and the
newest list is read with the sum of its shards.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, func, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from zerotrip.bulk import insert_many
from zerotrip.certificates.errors import CertificateStatusConflict
from zerotrip.certificates.models import Certificate, StatusList, StatusListUsage
from zerotrip.config import Settings

# Random indices are drawn until a list is this full; past it, a free one is picked from the complement.
_RANDOM_FILL = 0.75
_RANDOM = random.SystemRandom()
# Values per IN list: well inside SQLite's and PostgreSQL's limits on bound parameters.
_IN_CHUNK = 900
# Counter rows per list: two issues in flight at once pick the same one with probability 1/32.
USAGE_SHARDS = 32

# Statements built once (building one costs about as much as running it on SQLite).
_CERTIFICATES = cast(Table, Certificate.__table__)
_STATUS_LISTS = cast(Table, StatusList.__table__)
_INSERTS = {
    is_sqlite: statement.returning(_CERTIFICATES.c.id)
    for is_sqlite, statement in (
        (True, sqlite_insert(_CERTIFICATES).on_conflict_do_nothing()),
        (False, postgresql_insert(_CERTIFICATES).on_conflict_do_nothing()),
    )
}
_USAGE = cast(Table, StatusListUsage.__table__)
# The newest list with what it has used: the sum of its shards, which other transactions move, so it is
# read afresh each time (plain columns, no ORM object to refresh).
_NEWEST_LIST = (
    select(
        _STATUS_LISTS.c.id,
        _STATUS_LISTS.c.size,
        select(func.coalesce(func.sum(_USAGE.c.used), 0))
        .where(_USAGE.c.list_id == _STATUS_LISTS.c.id)
        .scalar_subquery(),
    )
    .order_by(_STATUS_LISTS.c.id.desc())
    .limit(1)
)
_COUNT_USED = {
    is_sqlite: statement.on_conflict_do_update(
        index_elements=[_USAGE.c.list_id, _USAGE.c.shard],
        set_={"used": _USAGE.c.used + statement.excluded.used},
    )
    for is_sqlite, statement in ((True, sqlite_insert(_USAGE)), (False, postgresql_insert(_USAGE)))
}


def entry_order(row: dict[str, Any]) -> tuple[int, int]:
    return row["status_list_id"], row["status_index"]


def count_used(db: Session, counts: Mapping[int, int]) -> None:
    """Add ``counts`` (entries written per list id) to what the lists have used, each to one of its
    shards picked at random (in list order, so two issues never wait for each other in a cycle)."""
    statement = _COUNT_USED[db.get_bind().dialect.name == "sqlite"]
    for list_id, count in sorted(counts.items()):
        db.execute(statement, {"list_id": list_id, "shard": _pick_shard(), "used": count})


def _pick_shard() -> int:
    return _RANDOM.randrange(USAGE_SHARDS)


def used_by_list(db: Session, list_ids: Sequence[int]) -> dict[int, int]:
    """How many entries each list has used (the sum of its shards; 0 for a list without any)."""
    rows = db.execute(
        select(_USAGE.c.list_id, func.sum(_USAGE.c.used))
        .where(_USAGE.c.list_id.in_(list_ids))
        .group_by(_USAGE.c.list_id)
    )
    return {list_id: 0 for list_id in list_ids} | {list_id: int(used) for list_id, used in rows}


def insert_certificates(db: Session, rows: list[dict[str, Any]]) -> set[str]:
    """Insert the rows, skipping any whose number or status entry is taken (by a transaction that committed
    or is in flight since the entries were drawn); returns the numbers of the rows skipped."""
    table = _CERTIFICATES
    if len(rows) == 1:
        returning = _INSERTS[db.get_bind().dialect.name == "sqlite"]
        inserted = db.execute(returning, rows[0]).scalar()
        if inserted is None:
            return {rows[0]["number"]}
        rows[0]["id"] = inserted  # a single issue gives back its row as an object
        return set()
    if insert_many(db, table, rows, skip_conflicts=True) == len(rows):
        return set()
    # Some were skipped: ask which rows are there as written.
    written = [row["number"] for row in rows]
    found: set[tuple[str, int, int]] = set()
    for start in range(0, len(written), _IN_CHUNK):
        rows_found = db.execute(
            select(table.c.number, table.c.status_list_id, table.c.status_index).where(
                table.c.number.in_(written[start : start + _IN_CHUNK])
            )
        )
        found.update((number, list_id, index) for number, list_id, index in rows_found)
    return {
        row["number"]
        for row in rows
        if (row["number"], row["status_list_id"], row["status_index"]) not in found
    }


def draw_status_entries(
    db: Session, *, count: int, settings: Settings, now: datetime
) -> list[tuple[int, int]]:
    """``count`` free ``(list id, index)`` entries: random indices of the newest status list (herd privacy:
    neighbours in a list say nothing about each other's issue order), then of new lists as it fills.
    Several at once are checked against the taken ones in one query; a single one is left to the insert,
    which skips it in the rare case it is taken."""
    newest = db.execute(_NEWEST_LIST).first()
    current: tuple[int, int, int] | None = (newest[0], newest[1], int(newest[2])) if newest else None
    entries: list[tuple[int, int]] = []
    while len(entries) < count:
        if current is None or current[2] >= current[1]:
            status_list = StatusList(
                bits=2, size=settings.certificates.status_list_size, created_at=now, updated_at=now
            )
            db.add(status_list)
            db.flush()  # the id is part of every credential's status URI
            current = (status_list.id, status_list.size, 0)
        list_id, size, used = current
        wanted = min(count - len(entries), size - used)
        if used + wanted <= size * _RANDOM_FILL:
            indices = _random_free_indices(db, list_id, size=size, count=wanted, check=count > 1)
        else:
            # Nearly full: pick from the complement of what is taken.
            taken = set(
                db.scalars(select(Certificate.status_index).where(Certificate.status_list_id == list_id))
            )
            free = [i for i in range(size) if i not in taken]
            indices = _RANDOM.sample(free, min(wanted, len(free)))
            if len(indices) < wanted:
                # The count lagged behind: the list is full once these are written.
                count_used(db, {list_id: size - len(indices) - used})
        entries += [(list_id, index) for index in indices]
        if len(entries) < count:
            current = None
    return entries


def _random_free_indices(db: Session, list_id: int, *, size: int, count: int, check: bool) -> list[int]:
    """``count`` distinct random indices of the list, in the order drawn; with ``check``, none taken."""
    chosen: list[int] = []
    seen: set[int] = set()
    while len(chosen) < count:
        draws: list[int] = []
        while len(draws) < count - len(chosen):
            if len(seen) >= size:
                raise CertificateStatusConflict("the status list has no free entry left; try again")
            index = secrets.randbelow(size)
            if index not in seen:
                seen.add(index)
                draws.append(index)
        if check:
            taken: set[int] = set()
            for start in range(0, len(draws), _IN_CHUNK):
                taken.update(
                    db.scalars(
                        select(Certificate.status_index).where(
                            Certificate.status_list_id == list_id,
                            Certificate.status_index.in_(draws[start : start + _IN_CHUNK]),
                        )
                    )
                )
            draws = [index for index in draws if index not in taken]
        chosen += draws
    return chosen
