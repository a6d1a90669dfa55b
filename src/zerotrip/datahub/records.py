"""Versioned records: the one place that changes a record (ADR 0001, system-versioned storage).

A record's current state is its ``datahub_record`` row, stamped with who changed it, when, in which batch,
and a new ``change_seq`` (the return feed's cursor). A change first copies the state it replaces into
``datahub_record_history``; a deletion leaves a tombstone. So a first load writes one row per record and
history grows only with real changes.
"""

from __future__ import annotations

import queue
import struct
import threading
import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import orjson
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
from zerotrip.datahub.models import Record, RecordHistory, Resource
from zerotrip.db import UTCDateTime


@dataclass(frozen=True)
class Upserted:
    record: Record
    is_changed: bool  # False when the incoming data equals the current version (nothing written)


def record_key_of(resource: Resource, data: dict[str, Any]) -> str:
    """The key a record is upserted by: its key fields' values, joined (unambiguous because of the
    separator that cannot occur in loaded text)."""
    return RowShape.of(resource).key(data)


def region_of(resource: Resource, data: dict[str, Any]) -> str | None:
    """The division code a return feed filters by: the region field, else the subject's own code."""
    return RowShape.of(resource).region(data)


@dataclass(frozen=True, slots=True)
class RowShape:
    """What a record's key, subject and region are taken from, read off the resource once: loads ask for
    them a million times, and each read of an ORM attribute costs more than the computation."""

    key_fields: tuple[str, ...]
    subject_field: str | None
    subject_kind: str
    region_field: str | None

    @classmethod
    def of(cls, resource: Resource) -> RowShape:
        return cls(
            tuple(resource.key_fields), resource.subject_field, resource.subject_kind, resource.region_field
        )

    def key(self, data: dict[str, Any]) -> str:
        if len(self.key_fields) == 1:
            return str(data.get(self.key_fields[0], ""))
        return "\x1f".join(str(data.get(name, "")) for name in self.key_fields)

    def subject(self, data: dict[str, Any]) -> str | None:
        return str(data[self.subject_field]) if self.subject_field else None

    def region(self, data: dict[str, Any]) -> str | None:
        if self.region_field and data.get(self.region_field):
            return str(data[self.region_field])
        if self.subject_field and self.subject_kind in ("resident_id", "uscc", "division_code"):
            subject = str(data.get(self.subject_field) or "")
            if self.subject_kind == "resident_id":
                return subject[:6] or None
            if self.subject_kind == "uscc":
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
    """Insert or update the record with ``data``'s key, changing it (and moving its old state to the
    history) only when something changed.

    ``existing`` lets callers pass the record they already fetched (None means look it up).
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
    (seq,) = next_change_seqs(db, resource_id=resource.id, count=1)
    if existing is None:
        record = Record(
            resource_id=resource.id,
            record_key=key,
            subject_key=subject,
            division_code=division,
            data=data,
            version=1,
            is_deleted=False,
            updated_at=now,
            batch_id=batch_id,
            changed_by=changed_by,
            change_seq=seq,
        )
        db.add(record)
    else:
        record = existing
        _supersede(db, record, now)
        record.data = data
        record.subject_key = subject
        record.division_code = division
        record.version += 1
        record.is_deleted = False
        record.updated_at = now
        record.batch_id = batch_id
        record.changed_by = changed_by
        record.change_seq = seq
    resource.data_updated_at = now
    return Upserted(record, is_changed=True)


def delete_record(db: Session, *, resource: Resource, record: Record, changed_by: str) -> None:
    """Mark a record deleted (a tombstone that keeps its last data); the feed carries the deletion so lower
    levels drop their copy."""
    now = clock.now()
    (seq,) = next_change_seqs(db, resource_id=resource.id, count=1)
    _supersede(db, record, now)
    record.is_deleted = True
    record.version += 1
    record.updated_at = now
    record.batch_id = None
    record.changed_by = changed_by
    record.change_seq = seq
    resource.data_updated_at = now


def _supersede(db: Session, record: Record, now: datetime) -> None:
    """Keep the record's present state in the history before a change replaces it."""
    db.add(
        RecordHistory(
            record_id=record.id,
            resource_id=record.resource_id,
            version=record.version,
            record_key=record.record_key,
            division_code=record.division_code,
            data=record.data,
            is_deleted=record.is_deleted,
            batch_id=record.batch_id,
            changed_by=record.changed_by,
            changed_at=record.updated_at,
            superseded_at=now,
            change_seq=record.change_seq,
        )
    )


def next_change_seqs(db: Session, *, resource_id: int, count: int) -> list[int]:
    """``count`` new change numbers, increasing. PostgreSQL draws them from a sequence; SQLite, which has
    one writer at a time, counts on from the resource's highest (records are never removed, so it is the
    highest ever given)."""
    if count <= 0:
        return []
    if db.get_bind().dialect.name == "postgresql":
        return list(db.scalars(_PG_NEXT_SEQS, {"count": count}))
    highest = db.scalar(select(func.max(Record.change_seq)).where(Record.resource_id == resource_id)) or 0
    return list(range(highest + 1, highest + 1 + count))


_PG_NEXT_SEQS = text("SELECT nextval('datahub_record_change_seq') FROM generate_series(1, :count)")


@dataclass(frozen=True)
class RecordState:
    """One state of a record, the current one or one from its history."""

    version: int
    is_deleted: bool
    data: dict[str, Any]
    batch_id: uuid.UUID | None
    changed_by: str
    changed_at: datetime
    superseded_at: datetime | None  # None for the current state


def list_record_versions(db: Session, *, record: Record) -> list[RecordState]:
    """Every state the record has had, oldest first: its history, then its current state."""
    history = db.scalars(
        select(RecordHistory).where(RecordHistory.record_id == record.id).order_by(RecordHistory.version)
    )
    states = [
        RecordState(h.version, h.is_deleted, h.data, h.batch_id, h.changed_by, h.changed_at, h.superseded_at)
        for h in history
    ]
    current = RecordState(
        record.version,
        record.is_deleted,
        record.data,
        record.batch_id,
        record.changed_by,
        record.updated_at,
        None,
    )
    return [*states, current]


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
    """``upsert_record`` for many rows in a few statements, with the same rule: a change (and a history row
    for the state it replaces) exactly when the data changed. The rows' keys must be distinct and
    ``existing`` must hold every stored record among them (``fetch_existing``).
    """
    fresh: list[_Row] = []
    changed: list[_Row] = []
    unchanged = 0
    shape = RowShape.of(resource)
    for data in rows:
        key = shape.key(data)
        old = existing.get(key)
        if old is not None and not old.is_deleted and old.data == data:
            unchanged += 1
            continue
        subject = shape.subject(data)
        row = _Row(
            key, subject, shape.region(data), data, old.id if old else 0, old.version + 1 if old else 1
        )
        (changed if old else fresh).append(row)
    if fresh or changed:
        now = clock.now()
        write = _write_postgresql if db.get_bind().dialect.name == "postgresql" else _write_portable
        write(db, resource, fresh, changed, _Stamp(now, batch_id, changed_by))
        resource.data_updated_at = now
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
    seqs = iter(next_change_seqs(db, resource_id=resource.id, count=len(fresh) + len(changed)))
    common = {"updated_at": stamp.at, "batch_id": stamp.batch_id, "changed_by": stamp.by}
    if changed:
        ids = [r.id for r in changed]
        for start in range(0, len(ids), 500):
            db.execute(_PORTABLE_SUPERSEDE, {"ids": ids[start : start + 500], "at": stamp.at})
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
                changed_by=bindparam("changed_by"),
                change_seq=bindparam("change_seq"),
            )
            .execution_options(synchronize_session=False),
            [
                {"b_id": r.id, "data": r.data, "subject_key": r.subject, "division_code": r.division}
                | {"version": r.version, "change_seq": next(seqs)}
                | common
                for r in changed
            ],
        )
    if fresh:
        # A plain executemany: RETURNING would make SQLite insert row by row.
        db.execute(
            insert(records),
            [
                {"resource_id": resource.id, "record_key": r.key, "subject_key": r.subject}
                | {"division_code": r.division, "data": r.data, "version": 1, "is_deleted": False}
                | {"change_seq": next(seqs)}
                | common
                for r in fresh
            ],
        )


# The state a change replaces, copied into the history inside the database before the update.
_SUPERSEDE = (
    "INSERT INTO datahub_record_history (record_id, resource_id, version, record_key, division_code, data,"
    " is_deleted, batch_id, changed_by, changed_at, superseded_at, change_seq)"
    " SELECT id, resource_id, version, record_key, division_code, data, is_deleted, batch_id, changed_by,"
    " updated_at, :at, change_seq FROM datahub_record"
)
_PORTABLE_SUPERSEDE = text(_SUPERSEDE + " WHERE id IN :ids ORDER BY id").bindparams(
    bindparam("ids", expanding=True), bindparam("at", type_=UTCDateTime())
)
_PG_SUPERSEDE = text(_SUPERSEDE + " WHERE id = ANY(:ids) ORDER BY id")

_PG_UPDATE = text(
    "UPDATE datahub_record AS r SET data = j::jsonb, subject_key = s, division_code = d, version = v,"
    " is_deleted = false, updated_at = :at, batch_id = :batch_id, changed_by = :by,"
    " change_seq = nextval('datahub_record_change_seq')"
    " FROM unnest(:ids, :subjects, :divisions, :data, :versions) AS t(i, s, d, j, v) WHERE r.id = t.i"
)


def _write_postgresql(
    db: Session, resource: Resource, fresh: list[_Row], changed: list[_Row], stamp: _Stamp
) -> None:
    """Move the changed records' old states into the history and update them in two statements over
    arrays, then COPY the new records in binary."""
    if changed:
        ids = [r.id for r in changed]
        db.execute(_PG_SUPERSEDE.bindparams(_arrays(ids=_BIGINT)[0]), {"ids": ids, "at": stamp.at})
        db.execute(
            _PG_UPDATE.bindparams(
                *_arrays(ids=_BIGINT, subjects=_TEXT, divisions=_TEXT, data=_TEXT, versions=_INT)
            ),
            {"ids": ids, "subjects": [r.subject for r in changed]}
            | {"divisions": [r.division for r in changed], "data": [_json(r.data) for r in changed]}
            | {"versions": [r.version for r in changed], "at": stamp.at, "batch_id": stamp.batch_id}
            | {"by": stamp.by},
        )
    if fresh:
        payload = _copy_rows(fresh, _copy_prefix(resource.id, stamp))
        with _driver(db).cursor() as cursor, cursor.copy(_PG_COPY_RECORDS) as copy:
            copy.write(_COPY_SIGNATURE + payload + _COPY_TRAILER)


# --- Streaming new records into PostgreSQL -----------------------------------------------------------------


class RecordStream:
    """New records COPYed into PostgreSQL by a second thread while the caller prepares the next ones.

    For loads into a resource that holds no records (so every accepted row is a new record): the caller
    validates rows and encodes each batch of new records as binary COPY data (``write``); a writer thread
    sends it down one COPY statement on the session's connection, so the server parses, stores and indexes
    rows on the other core meanwhile. The thread does little but wait on the socket, without the GIL. At
    most ``queued`` batches wait between the two, which bounds memory. While the stream is open the
    session belongs to the writer: the caller must not use it. An error in the writer is raised in the
    caller at the next ``write`` or on leaving the block; an error in the block aborts the COPY.
    """

    def __init__(
        self, db: Session, *, resource: Resource, changed_by: str, batch_id: uuid.UUID | None, queued: int = 4
    ) -> None:
        self._db, self._resource = db, resource
        self._stamp = _Stamp(clock.now(), batch_id, changed_by)
        self._prefix = _copy_prefix(resource.id, self._stamp)
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=queued)
        self._error: BaseException | None = None
        self._abandon = False
        self._thread = threading.Thread(target=self._run, name="zerotrip-record-stream", daemon=True)
        self.written = 0

    def __enter__(self) -> RecordStream:
        self._driver = _driver(self._db)  # taken here: the thread never touches the session
        self._thread.start()
        return self

    def write(self, rows: Sequence[dict[str, Any]], *, keys: Sequence[str] | None = None) -> None:
        """Queue new records (keys the resource does not hold yet, distinct; ``keys``: their record keys,
        when the caller has them already)."""
        if self._error is not None:
            raise self._error
        if rows:
            self._queue.put(_copy_rows(_new_rows(self._resource, rows, keys), self._prefix))
            self.written += len(rows)

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, _tb: object) -> None:
        self._abandon = error is not None
        self._queue.put(None)
        self._thread.join()
        if error is None and self._error is not None:
            raise self._error
        if error is None and self.written:
            self._resource.data_updated_at = self._stamp.at

    def _run(self) -> None:
        payload: bytes | None = b""
        try:
            with self._driver.cursor() as cursor, cursor.copy(_PG_COPY_RECORDS) as copy:
                copy.write(_COPY_SIGNATURE)
                while (payload := self._queue.get()) is not None:
                    if self._abandon:
                        raise _Abandoned()
                    copy.write(payload)
                copy.write(_COPY_TRAILER)
        except BaseException as exc:  # handed to the caller's thread, which raises it
            self._error = exc
            while payload is not None:  # let the caller finish its puts
                payload = self._queue.get()


class _Abandoned(Exception):
    """The caller's block failed: end the COPY with an error so nothing of it is stored."""


def _new_rows(
    resource: Resource, rows: Sequence[dict[str, Any]], keys: Sequence[str] | None = None
) -> list[_Row]:
    shape = RowShape.of(resource)
    if keys is None:
        keys = [shape.key(data) for data in rows]
    subject, region = shape.subject, shape.region
    return [_Row(key, subject(data), region(data), data, 0, 1) for key, data in zip(keys, rows, strict=True)]


# Binary COPY (PostgreSQL's documented format): no text to escape or parse. The columns that are the same
# for every row of a write come first, encoded once; ``change_seq`` takes its default from the sequence.
_PG_COPY_RECORDS = (
    "COPY datahub_record (resource_id, version, is_deleted, updated_at, batch_id, changed_by, record_key,"
    " subject_key, division_code, data) FROM STDIN WITH (FORMAT binary)"
)
_COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # then no flags and no header extension
_COPY_TRAILER = b"\xff\xff"
_NULL = b"\xff\xff\xff\xff"
_PG_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_LENGTH = struct.Struct(">i").pack


def _copy_prefix(resource_id: int, stamp: _Stamp) -> bytes:
    """A row's field count and its six constant fields, in binary COPY form."""
    by = stamp.by.encode()
    micros = (stamp.at - _PG_EPOCH) // timedelta(microseconds=1)
    batch = _LENGTH(16) + stamp.batch_id.bytes if stamp.batch_id is not None else _NULL
    return b"".join(
        [
            struct.pack(">h", 10),
            struct.pack(">ii", 4, resource_id),
            struct.pack(">ii", 4, 1),  # version
            struct.pack(">ib", 1, 0),  # is_deleted
            struct.pack(">iq", 8, micros),
            batch,
            _LENGTH(len(by)) + by,
        ]
    )


def _copy_rows(rows: Sequence[_Row], prefix: bytes) -> bytes:
    out = bytearray()
    dumps = orjson.dumps
    for r in rows:
        key = r.key.encode()
        out += prefix
        out += _LENGTH(len(key))
        out += key
        for value in (r.subject, r.division):
            if value is None:
                out += _NULL
            else:
                encoded = value.encode()
                out += _LENGTH(len(encoded))
                out += encoded
        document = dumps(r.data)
        out += _LENGTH(len(document) + 1)
        out += b"\x01"  # JSONB's binary format version, then the JSON text
        out += document
    return bytes(out)


def _driver(db: Session) -> Any:
    driver = db.connection().connection.driver_connection  # psycopg, in the session's transaction
    assert driver is not None
    return driver


_TEXT = ARRAY(Text)
_INT = ARRAY(Integer)
_BIGINT = ARRAY(BigInteger)


def _arrays(**types: ARRAY[Any]) -> list[BindParameter[Any]]:
    return [bindparam(name, type_=type_) for name, type_ in types.items()]


def _json(data: dict[str, Any]) -> str:
    return orjson.dumps(data).decode()
