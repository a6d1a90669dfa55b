"""Versioned records: the one place that changes a record, so every change is a version and a feed entry."""

from __future__ import annotations

import json
import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    BigInteger,
    BindParameter,
    Integer,
    String,
    Text,
    bindparam,
    func,
    insert,
    literal,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from zerotrip.common import clock
from zerotrip.datahub.models import Record, RecordVersion, Resource
from zerotrip.db import UTCDateTime


@dataclass(frozen=True)
class Upserted:
    record: Record
    is_changed: bool  # False when the incoming data equals the current version (nothing written)


def record_key_of(resource: Resource, data: dict[str, Any]) -> str:
    """The key a record is upserted by: its key fields' values, joined (unambiguous because of the
    separator that cannot occur in loaded text)."""
    return "\x1f".join(str(data.get(name, "")) for name in resource.key_fields)


def region_of(resource: Resource, data: dict[str, Any]) -> str | None:
    """The division code a return feed filters by: the region field, else the subject's own code."""
    if resource.region_field and data.get(resource.region_field):
        return str(data[resource.region_field])
    if resource.subject_field and resource.subject_kind in ("resident_id", "uscc", "division_code"):
        subject = str(data.get(resource.subject_field) or "")
        if resource.subject_kind == "resident_id":
            return subject[:6] or None
        if resource.subject_kind == "uscc":
            return subject[2:8] or None
        return subject or None
    return None


def upsert_record(
    db: Session,
    *,
    resource: Resource,
    data: dict[str, Any],
    changed_by: str,
    batch_id: uuid.UUID | None = None,
    existing: Record | None = None,
) -> Upserted:
    """Insert or update the record with ``data``'s key, writing a new version only when something changed.

    ``existing`` lets bulk loads pass the record they already fetched (None means look it up).
    """
    key = record_key_of(resource, data)
    if existing is None:
        existing = db.scalar(
            select(Record).where(Record.resource_id == resource.id, Record.record_key == key)
        )
    now = clock.now()
    subject = str(data[resource.subject_field]) if resource.subject_field else None
    division = region_of(resource, data)
    if existing is not None and existing.data == data and not existing.is_deleted:
        return Upserted(existing, is_changed=False)
    if existing is None:
        record = Record(
            resource_id=resource.id,
            record_key=key,
            subject_key=subject,
            division_code=division,
            data=data,
            version=1,
            updated_at=now,
            batch_id=batch_id,
        )
        db.add(record)
        db.flush()  # the version row refers to the record's id
    else:
        record = existing
        record.data = data
        record.subject_key = subject
        record.division_code = division
        record.version += 1
        record.is_deleted = False
        record.updated_at = now
        record.batch_id = batch_id
    db.add(
        RecordVersion(
            record_id=record.id,
            resource_id=resource.id,
            version=record.version,
            operation="upsert",
            record_key=key,
            division_code=division,
            data=data,
            batch_id=batch_id,
            changed_by=changed_by,
            changed_at=now,
        )
    )
    resource.data_updated_at = now
    return Upserted(record, is_changed=True)


def delete_record(db: Session, *, resource: Resource, record: Record, changed_by: str) -> None:
    """Mark a record deleted; the feed carries the deletion so lower levels drop their copy."""
    now = clock.now()
    record.is_deleted = True
    record.version += 1
    record.updated_at = now
    db.add(
        RecordVersion(
            record_id=record.id,
            resource_id=resource.id,
            version=record.version,
            operation="delete",
            record_key=record.record_key,
            division_code=record.division_code,
            data={},
            changed_by=changed_by,
            changed_at=now,
        )
    )
    resource.data_updated_at = now


# --- Bulk variant for loads --------------------------------------------------------------------------------


class ExistingRecord(NamedTuple):
    id: int
    data: dict[str, Any]
    version: int
    is_deleted: bool


@dataclass(frozen=True)
class BulkUpserted:
    inserted: int
    updated: int
    unchanged: int


def fetch_existing(db: Session, *, resource: Resource, keys: Collection[str]) -> dict[str, ExistingRecord]:
    """The stored records (deleted ones included) with these keys, by key, in one query."""
    if not keys:
        return {}
    columns = (Record.record_key, Record.id, Record.data, Record.version, Record.is_deleted)
    if db.get_bind().dialect.name == "postgresql":
        # Written as a join on both index columns: during and just after a large load the planner's
        # statistics still describe a small table, and a plain IN list would scan the resource's records.
        wanted = select(literal(resource.id), func.unnest(bindparam("keys", list(keys), type_=ARRAY(String))))
        query = select(*columns).where(tuple_(Record.resource_id, Record.record_key).in_(wanted))
    else:
        query = select(*columns).where(Record.resource_id == resource.id, Record.record_key.in_(list(keys)))
    return {r[0]: ExistingRecord(r[1], r[2], r[3], r[4]) for r in db.execute(query)}


def upsert_records(
    db: Session,
    *,
    resource: Resource,
    rows: Sequence[dict[str, Any]],
    changed_by: str,
    batch_id: uuid.UUID | None = None,
    existing: Mapping[str, ExistingRecord],
) -> BulkUpserted:
    """``upsert_record`` for many rows in a few statements, with the same rule: a version (and feed entry)
    exactly when the data changed. The rows' keys must be distinct and ``existing`` must hold every stored
    record among them (``fetch_existing``).
    """
    fresh: list[_Row] = []
    changed: list[_Row] = []
    unchanged = 0
    for data in rows:
        key = record_key_of(resource, data)
        old = existing.get(key)
        if old is not None and not old.is_deleted and old.data == data:
            unchanged += 1
            continue
        subject = str(data[resource.subject_field]) if resource.subject_field else None
        row = _Row(
            key, subject, region_of(resource, data), data, old.id if old else 0, old.version + 1 if old else 1
        )
        (changed if old else fresh).append(row)
    if fresh or changed:
        write = _write_postgresql if db.get_bind().dialect.name == "postgresql" else _write_portable
        write(db, resource, fresh, changed, _Stamp(clock.now(), batch_id, changed_by))
        resource.data_updated_at = clock.now()
        # Records this session already holds as objects must not keep showing the old data.
        stale = {row.id for row in changed}
        for obj in list(db.identity_map.values()):
            if isinstance(obj, Record) and obj.id in stale:
                db.expire(obj)
    return BulkUpserted(inserted=len(fresh), updated=len(changed), unchanged=unchanged)


class _Row(NamedTuple):
    key: str
    subject: str | None
    division: str | None
    data: dict[str, Any]
    id: int  # 0 until inserted
    version: int


class _Stamp(NamedTuple):
    at: datetime
    batch_id: uuid.UUID | None
    by: str


def _write_portable(
    db: Session, resource: Resource, fresh: list[_Row], changed: list[_Row], stamp: _Stamp
) -> None:
    tables = Record.metadata.tables  # Core tables: no ORM bookkeeping per row
    records = tables[Record.__tablename__]
    common = {"updated_at": stamp.at, "batch_id": stamp.batch_id}
    if fresh:
        # A plain executemany: RETURNING would make SQLite insert row by row. The versions below find
        # the new ids themselves.
        db.execute(
            insert(records),
            [
                {"resource_id": resource.id, "record_key": r.key, "subject_key": r.subject}
                | {"division_code": r.division, "data": r.data, "version": 1, "is_deleted": False}
                | common
                for r in fresh
            ],
        )
    if changed:
        db.execute(
            update(records)
            .where(records.c.id == bindparam("b_id"))
            .values(
                data=bindparam("data"),
                subject_key=bindparam("subject_key"),
                division_code=bindparam("division_code"),
                version=bindparam("version"),
                is_deleted=False,
                updated_at=bindparam("updated_at"),
                batch_id=bindparam("batch_id"),
            )
            .execution_options(synchronize_session=False),
            [
                {"b_id": r.id, "data": r.data, "subject_key": r.subject, "division_code": r.division}
                | {"version": r.version}
                | common
                for r in changed
            ],
        )
    keys = [r.key for r in fresh + changed]
    for start in range(0, len(keys), 500):
        db.execute(
            _PORTABLE_VERSIONS,
            {"resource_id": resource.id, "keys": keys[start : start + 500], "by": stamp.by, "at": stamp.at},
        )


# Every version is copied from the record just written, inside the database.
_PORTABLE_VERSIONS = text(
    "INSERT INTO datahub_record_version (record_id, resource_id, version, operation, record_key,"
    " division_code, data, batch_id, changed_by, changed_at)"
    " SELECT id, resource_id, version, 'upsert', record_key, division_code, data, batch_id, :by, :at"
    " FROM datahub_record WHERE resource_id = :resource_id AND record_key IN :keys ORDER BY id"
).bindparams(bindparam("keys", expanding=True), bindparam("at", type_=UTCDateTime()))


_PG_COPY_RECORDS = (
    "COPY datahub_record (resource_id, record_key, subject_key, division_code, data, version, is_deleted,"
    " updated_at, batch_id) FROM STDIN"
)
_PG_UPDATE = text(
    "UPDATE datahub_record AS r SET data = j::jsonb, subject_key = s, division_code = d, version = v,"
    " is_deleted = false, updated_at = :at, batch_id = :batch_id"
    " FROM unnest(:ids, :subjects, :divisions, :data, :versions) AS t(i, s, d, j, v) WHERE r.id = t.i"
)
# The versions are copied from the records just written, inside the server. The row-value IN keeps the
# lookup on the (resource_id, record_key) index even while the planner's statistics are stale.
_PG_VERSIONS = text(
    "INSERT INTO datahub_record_version (record_id, resource_id, version, operation, record_key,"
    " division_code, data, batch_id, changed_by, changed_at)"
    " SELECT id, resource_id, version, 'upsert', record_key, division_code, data, batch_id, :by, :at"
    " FROM datahub_record WHERE (resource_id, record_key) IN (SELECT :resource_id, unnest(:keys))"
    " ORDER BY id"
)


def _write_postgresql(
    db: Session, resource: Resource, fresh: list[_Row], changed: list[_Row], stamp: _Stamp
) -> None:
    """COPY the new records, update the changed ones in one statement over arrays, then copy every
    written record into its version inside the server."""
    if fresh:
        driver = db.connection().connection.driver_connection  # psycopg, in the session's transaction
        assert driver is not None
        with driver.cursor() as cursor, cursor.copy(_PG_COPY_RECORDS) as copy:
            for r in fresh:
                row = (resource.id, r.key, r.subject, r.division, _json(r.data), 1, False)
                copy.write_row((*row, stamp.at, stamp.batch_id))
    if changed:
        db.execute(
            _PG_UPDATE.bindparams(
                *_arrays(ids=_BIGINT, subjects=_TEXT, divisions=_TEXT, data=_TEXT, versions=_INT)
            ),
            {"ids": [r.id for r in changed], "subjects": [r.subject for r in changed]}
            | {"divisions": [r.division for r in changed], "data": [_json(r.data) for r in changed]}
            | {"versions": [r.version for r in changed], "at": stamp.at, "batch_id": stamp.batch_id},
        )
    db.execute(
        _PG_VERSIONS.bindparams(_arrays(keys=_TEXT)[0]),
        {
            "resource_id": resource.id,
            "keys": [r.key for r in fresh + changed],
            "by": stamp.by,
            "at": stamp.at,
        },
    )


_TEXT = ARRAY(Text)
_INT = ARRAY(Integer)
_BIGINT = ARRAY(BigInteger)


def _arrays(**types: ARRAY[Any]) -> list[BindParameter[Any]]:
    return [bindparam(name, type_=type_) for name, type_ in types.items()]


def _json(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))
