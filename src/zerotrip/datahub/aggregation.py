"""Aggregation (归集): rows from files and API pushes become versioned records, with a quality report.

Each row is checked against its resource's fields (``validation``), then against other rows: references to
another resource's current records, uniqueness within the load and against stored records, and duplicate
keys (a later row with the key of an accepted earlier row is refused, naming that row). Accepted rows are
upserted by key, a new version only when the data changed (who, when, which batch); ``rows_accepted``
counts every row that passed, ``rows_unchanged`` those of them that changed nothing. Refused rows are kept
as Rejections, one per error and up to ``REJECTIONS_KEPT`` per batch, while the batch's report counts them
all. A load writes one audit event.

Memory stays bounded whatever the size of the input: rows are handled in chunks (one query per chunk and
rule, never one per row), and what must be remembered across chunks, namely which row claimed each key and
each unique value, is spilled to a scratch SQLite file.

Both cores work when a load fills a resource that holds no records (it holds the resource's lock, so
none can appear but its own) and no field refers to another resource: no row then needs the database to be
judged, so the caller's thread reads, validates and encodes rows while ``records.RecordStream`` COPYs them
in from a second thread, and the server stores and indexes them meanwhile (ADR 0001). Otherwise each chunk
is checked against stored records and written before the next one is read.
"""

from __future__ import annotations

import sqlite3
import tempfile
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from itertools import islice
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import String, bindparam, cast, func, insert, literal, select, tuple_
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from zerotrip.audit.actions import record_event
from zerotrip.common import clock
from zerotrip.datahub.errors import BatchNotFound, NotSteward
from zerotrip.datahub.models import Batch, Field, Record, Rejection, Resource
from zerotrip.datahub.permissions import can_oversee, can_steward
from zerotrip.datahub.queries import get_resource, list_fields
from zerotrip.datahub.records import (
    ExistingRecord,
    RecordStream,
    RowShape,
    fetch_existing,
    upsert_records,
)
from zerotrip.datahub.validation import RowError, RowValidator, shown
from zerotrip.identity import queries as identity_queries
from zerotrip.identity.actor import Actor
from zerotrip.identity.errors import ScopeNotGranted
from zerotrip.problems import ValidationFailed

WRITE_SCOPE = "datahub.records.write"
CHUNK_ROWS = 2_000
REJECTIONS_KEPT = 10_000
EXAMPLES_KEPT = 20
PUSH_LIMIT = 10_000
_KEY = ""  # the claims kind of record keys (field names are never empty)
COUNTS = ("rows_total", "rows_accepted", "rows_rejected", "rows_unchanged")

Progress = Callable[[int], None]
RawRows = Iterable[tuple[int, Mapping[str, object]]]


def check_can_load(db: Session, actor: Actor, resource: Resource) -> None:
    """The owning department's data steward (or the platform administrator over it) loads; a department
    system loads only its own department's resources, with the ``datahub.records.write`` scope.
    Raises ScopeNotGranted, NotSteward."""
    if actor.kind == "client":
        if WRITE_SCOPE not in actor.scopes:
            raise ScopeNotGranted(f"this needs the {WRITE_SCOPE} scope", required_scope=WRITE_SCOPE)
        if actor.client_org_id != resource.owner_org_id:
            raise NotSteward("a department system may push only its own department's records")
        return
    owner = identity_queries.get_organisation(db, resource.owner_org_id)
    if not can_steward(actor, owner.path):
        raise NotSteward()


def load_rows(
    db: Session,
    *,
    actor: Actor,
    resource_code: str,
    rows: RawRows,
    source: str,
    filename: str | None = None,
    format: str,
    progress: Progress | None = None,
) -> Batch:
    """Load ``rows`` (row number, values by field name) into the resource's records as one batch.

    Loads of one resource are serialised by a lock on its row, so its version ids, the change feed's
    cursor, commit in order. ``progress`` is called with the count of rows read after each chunk.
    Raises ResourceNotFound, NotSteward, ScopeNotGranted, and UnreadableFile from a reader.
    """
    resource = get_resource(db, resource_code)
    check_can_load(db, actor, resource)
    db.refresh(resource, with_for_update=True)
    batch = Batch(
        resource_id=resource.id,
        source=source,
        filename=filename[:200] if filename else None,
        format=format,
        status="running",
        report={},
        submitted_by=actor.principal,
        started_at=clock.now(),
    )
    db.add(batch)
    db.flush()  # records, versions and rejections refer to the batch's id
    loader = _Loader(db, resource, list_fields(db, resource.id), batch)
    try:
        if loader.can_stream:
            loader.stream(_chunks(rows, CHUNK_ROWS), progress)
        else:
            for chunk in _chunks(rows, CHUNK_ROWS):
                loader.load(chunk)
                if progress is not None:
                    progress(loader.rows_total)
        loader.finish()
    finally:
        loader.claims.close()
    record_event(
        db,
        actor=actor.principal,
        action="datahub.batch.loaded",
        subject_type="resource",
        subject_id=resource.code,
        data={"batch_id": str(batch.id), "source": source} | {c: getattr(batch, c) for c in COUNTS},
    )
    return batch


def push_records(
    db: Session, *, actor: Actor, resource_code: str, records: Sequence[Mapping[str, object]]
) -> Batch:
    """Load records pushed through the API (keyed by field name; row numbers count from 1), the same way
    as a file. Raises ValidationFailed above ``PUSH_LIMIT`` records, and whatever ``load_rows`` raises."""
    if len(records) > PUSH_LIMIT:
        raise ValidationFailed.field("records", f"at most {PUSH_LIMIT:,} records per push")
    return load_rows(
        db,
        actor=actor,
        resource_code=resource_code,
        rows=enumerate(records, start=1),
        source="push",
        format="records",
    )


class _Loader:
    def __init__(self, db: Session, resource: Resource, fields: list[Field], batch: Batch) -> None:
        self.db, self.resource, self.batch = db, resource, batch
        required = [*resource.key_fields, *([resource.subject_field] if resource.subject_field else [])]
        self.validator = RowValidator(fields, required=required)
        self.references = [(f.name, *_reference_target(db, f)) for f in fields if f.reference]
        # A unique field that alone is the key is already covered by the duplicate-key rule.
        self.unique = [f.name for f in fields if f.is_unique and resource.key_fields != [f.name]]
        self.shape = RowShape.of(resource)
        self.claims = _Claims()
        for name in self.unique:
            self._claim_stored_values(name)
        # The caller holds the resource's lock: if it has no records now, the only ones it will have during
        # this load are the load's own, which the claims already know about.
        has_stored = (
            db.scalar(select(Record.id).where(Record.resource_id == resource.id).limit(1)) is not None
        )
        self.can_stream = (
            db.get_bind().dialect.name == "postgresql" and not has_stored and not self.references
        )
        self.rows_total = self.accepted = self.unchanged = self.written = self.rejected = 0
        self.counts: Counter[tuple[str | None, str]] = Counter()
        self.examples: list[dict[str, Any]] = []
        self.kept = 0
        self.pending: list[dict[str, Any]] = []

    def load(self, chunk: list[tuple[int, Mapping[str, object]]]) -> None:
        """Check a chunk's rows on their own, against other rows and against stored records; write it."""
        self._store(self.validate(chunk))

    def stream(
        self, chunks: Iterable[list[tuple[int, Mapping[str, object]]]], progress: Progress | None
    ) -> None:
        """Load into a resource with no records and no references: rows are judged without the database,
        and the accepted ones, all new, stream into it while the next chunk is validated."""
        key_of = self.shape.key
        with RecordStream(
            self.db, resource=self.resource, changed_by=self.batch.submitted_by, batch_id=self.batch.id
        ) as sink:
            for chunk in chunks:
                validated = self.validate(chunk)
                self.rows_total += validated.rows
                for number, errors in validated.refused:
                    self._reject(number, errors)  # kept until the stream ends: the session is the writer's
                keys = [key_of(data) for _, data in validated.valid]
                if self.unique:
                    accepted = self._claim(validated.valid, keys, {})
                    sink.write(accepted)
                else:
                    accepted, keys = self._claim_keys(validated.valid, keys)
                    sink.write(accepted, keys=keys)
                self.accepted += len(accepted)
                if progress is not None:
                    progress(self.rows_total)
        self.written += sink.written

    def validate(self, chunk: list[tuple[int, Mapping[str, object]]]) -> _Validated:
        """Check each row on its own (no database)."""
        valid: list[tuple[int, dict[str, Any]]] = []
        refused: list[tuple[int, list[RowError]]] = []
        validate = self.validator.validate
        for number, raw in chunk:
            clean, errors = validate(raw)
            if clean is None:
                refused.append((number, errors))
            else:
                valid.append((number, clean))
        return _Validated(len(chunk), valid, refused)

    def _store(self, validated: _Validated) -> None:
        self.rows_total += validated.rows
        for number, errors in validated.refused:
            self._reject(number, errors)
        valid = self._check_references(validated.valid)
        keys = [self.shape.key(data) for _, data in valid]
        existing = fetch_existing(self.db, resource=self.resource, keys=keys)
        accepted = self._claim(valid, keys, existing)
        result = upsert_records(
            self.db,
            resource=self.resource,
            rows=accepted,
            changed_by=self.batch.submitted_by,
            batch_id=self.batch.id,
            existing=existing,
        )
        self.accepted += len(accepted)
        self.unchanged += result.unchanged
        self.written += result.inserted + result.updated
        self._write_rejections()

    def finish(self) -> None:
        self._write_rejections()
        batch = self.batch
        batch.rows_total, batch.rows_accepted = self.rows_total, self.accepted
        batch.rows_rejected, batch.rows_unchanged = self.rejected, self.unchanged
        batch.report = {
            "rows_written": self.written,
            "errors": [
                {"field": field, "rule": rule, "count": count}
                for (field, rule), count in self.counts.most_common()
            ],
            "examples": sorted(self.examples, key=lambda e: e["row_number"]),
            "rejections_kept": self.kept,
        }
        batch.status = "completed"
        batch.finished_at = clock.now()

    def _check_references(self, valid: list[tuple[int, dict[str, Any]]]) -> list[tuple[int, dict[str, Any]]]:
        bad: dict[int, list[RowError]] = {}
        for name, target, target_field in self.references:
            wanted = {str(data[name]) for _, data in valid if data[name] is not None}
            found = _stored_values(self.db, target, target_field, wanted)
            for number, data in valid:
                value = data[name]
                if value is not None and str(value) not in found:
                    reason = f"{value} is not a {target_field} of {target.code}"
                    bad.setdefault(number, []).append(RowError(name, "reference", reason, shown(value)))
        for number, errors in bad.items():
            self._reject(number, errors)
        return [(number, data) for number, data in valid if number not in bad] if bad else valid

    def _claim(
        self, valid: list[tuple[int, dict[str, Any]]], keys: list[str], existing: Mapping[str, ExistingRecord]
    ) -> list[dict[str, Any]]:
        """Refuse rows whose key an earlier row has, or whose unique values another record holds; claim the
        key and values of the rest (releasing the values their records held before), in row order."""
        keys_taken = self.claims.lookup(_KEY, keys)
        new_keys: dict[str, tuple[str, int] | None] = {}
        held: dict[str, dict[str, tuple[str, int] | None]] = {}
        for name in self.unique:
            values = {str(d[name]) for _, d in valid if d[name] is not None}
            values |= {str(r.data.get(name)) for r in existing.values() if not r.is_deleted}
            held[name] = dict(self.claims.lookup(name, values))
        accepted: list[dict[str, Any]] = []
        for (number, data), key in zip(valid, keys, strict=True):
            earlier = new_keys.get(key) or keys_taken.get(key)
            if earlier is not None:
                reason = f"the same key is already on row {earlier[1]}"
                self._reject(
                    number, [RowError(None, "duplicate_key", reason, shown(key.replace("\x1f", " ")))]
                )
                continue
            errors = []
            for name in self.unique:
                holder = held[name].get(str(data[name])) if data[name] is not None else None
                if holder is not None and holder[0] != key:
                    where = f"on row {holder[1]}" if holder[1] else "held by another stored record"
                    errors.append(RowError(name, "unique", f"is already {where}", shown(data[name])))
            if errors:
                self._reject(number, errors)
                continue
            new_keys[key] = ("", number)
            old = existing.get(key)
            for name in self.unique:
                if old is not None and not old.is_deleted and old.data.get(name) is not None:
                    before = str(old.data[name])
                    holder = held[name].get(before)
                    if holder is not None and holder[0] == key:
                        held[name][before] = None
                if data[name] is not None:
                    held[name][str(data[name])] = (key, number)
            accepted.append(data)
        self.claims.store(_KEY, new_keys)
        for name in self.unique:
            self.claims.store(name, held[name])
        return accepted

    def _claim_keys(
        self, valid: list[tuple[int, dict[str, Any]]], keys: list[str]
    ) -> tuple[list[dict[str, Any]], list[str]]:
        """``_claim`` for a resource with no stored records and no unique fields but its key, where only
        duplicate keys can refuse a row: each key is claimed for its first row in one statement, and only
        when some were already held are the rows sorted out. The accepted rows and their keys."""
        numbers = [number for number, _ in valid]
        if self.claims.claim_first(_KEY, zip(keys, numbers, strict=True)) == len(keys):
            return [data for _, data in valid], keys
        holders = self.claims.lookup(_KEY, keys)
        accepted: list[dict[str, Any]] = []
        accepted_keys: list[str] = []
        for (number, data), key in zip(valid, keys, strict=True):
            first = holders[key][1]
            if first != number:
                reason = f"the same key is already on row {first}"
                shown_key = shown(key.replace("\x1f", " "))
                self._reject(number, [RowError(None, "duplicate_key", reason, shown_key)])
                continue
            accepted.append(data)
            accepted_keys.append(key)
        return accepted, accepted_keys

    def _claim_stored_values(self, name: str) -> None:
        value = cast(Record.data[name].as_string(), String)
        query = select(Record.record_key, value).where(
            Record.resource_id == self.resource.id, Record.is_deleted.is_(False), value.is_not(None)
        )
        for part in self.db.execute(query.execution_options(yield_per=CHUNK_ROWS)).partitions():
            self.claims.store(name, {v: (k, 0) for k, v in part})

    def _reject(self, number: int, errors: list[RowError]) -> None:
        self.rejected += 1
        for error in errors:
            field = error.field[:60] if error.field is not None else None
            count_key = (field, error.rule)
            if count_key not in self.counts and len(self.counts) >= 500:  # unbounded unknown-field names
                count_key = (None, error.rule)
            self.counts[count_key] += 1
            row = {"row_number": number, "field": field, "rule": error.rule, "reason": error.reason[:300]}
            row["value"] = error.value
            if len(self.examples) < EXAMPLES_KEPT:
                self.examples.append(row)
            if self.kept < REJECTIONS_KEPT:
                self.kept += 1
                self.pending.append(row | {"batch_id": self.batch.id})

    def _write_rejections(self) -> None:
        if self.pending:
            self.db.execute(insert(Rejection.metadata.tables[Rejection.__tablename__]), self.pending)
            self.pending = []


def _reference_target(db: Session, field: Field) -> tuple[Resource, str]:
    code, _, target_field = (field.reference or "").rpartition(".")
    return get_resource(db, code), target_field


def _stored_values(db: Session, target: Resource, field: str, wanted: set[str]) -> set[str]:
    """Which of ``wanted`` the field holds among the target's current records, through the indexed key or
    subject column when the field is the key or the subject."""
    column: Any = cast(Record.data[field].as_string(), String)
    if target.key_fields == [field] or target.subject_field == field:
        column = Record.record_key if target.key_fields == [field] else Record.subject_key
        if db.get_bind().dialect.name == "postgresql":  # as in records.fetch_existing: stay on the index
            values = bindparam("values", sorted(wanted), type_=ARRAY(String))
            pairs = select(literal(target.id), func.unnest(values))
            live = select(column).where(tuple_(Record.resource_id, column).in_(pairs), ~Record.is_deleted)
            return set(db.scalars(live))
    found: set[str] = set()
    values_list = sorted(wanted)
    for start in range(0, len(values_list), 1000):
        part = values_list[start : start + 1000]
        query = select(column).where(Record.resource_id == target.id, ~Record.is_deleted, column.in_(part))
        found.update(db.scalars(query))
    return found


class _Validated(NamedTuple):
    rows: int
    valid: list[tuple[int, dict[str, Any]]]
    refused: list[tuple[int, list[RowError]]]


def _chunks(rows: RawRows, size: int) -> Iterator[list[tuple[int, Mapping[str, object]]]]:
    iterator = iter(rows)
    while chunk := list(islice(iterator, size)):
        yield chunk


class _Claims:
    """Which row holds each record key and each unique value so far: ``(record key, row number)`` by kind
    and value, row 0 meaning a stored record. Kept in a scratch SQLite file that nothing needs to survive,
    so memory stays bounded however many rows a load has."""

    def __init__(self) -> None:
        self._folder = tempfile.TemporaryDirectory(prefix="zerotrip-load-")
        self._db = sqlite3.connect(
            Path(self._folder.name) / "claims.db", isolation_level=None, check_same_thread=False
        )
        self._db.execute("PRAGMA journal_mode=OFF")
        self._db.execute("PRAGMA synchronous=OFF")
        self._db.execute(
            "CREATE TABLE claim (kind TEXT NOT NULL, value TEXT NOT NULL, holder TEXT NOT NULL,"
            " row INTEGER NOT NULL, PRIMARY KEY (kind, value)) WITHOUT ROWID"
        )
        self._db.execute("BEGIN")

    def lookup(self, kind: str, values: Iterable[str]) -> dict[str, tuple[str, int]]:
        found: dict[str, tuple[str, int]] = {}
        wanted = list(set(values))
        for start in range(0, len(wanted), 500):
            part = wanted[start : start + 500]
            marks = ",".join("?" * len(part))
            query = f"SELECT value, holder, row FROM claim WHERE kind = ? AND value IN ({marks})"  # noqa: S608
            for value, holder, row in self._db.execute(query, [kind, *part]):
                found[value] = (holder, row)
        return found

    def claim_first(self, kind: str, values: Iterable[tuple[str, int]]) -> int:
        """Claim each value for its row (as a row of no stored record) unless something holds it already;
        how many were claimed."""
        before = self._db.total_changes
        self._db.executemany(
            "INSERT OR IGNORE INTO claim VALUES (?, ?, '', ?)", [(kind, value, row) for value, row in values]
        )
        return self._db.total_changes - before

    def store(self, kind: str, changes: Mapping[str, tuple[str, int] | None]) -> None:
        self._db.executemany(
            "INSERT OR REPLACE INTO claim VALUES (?, ?, ?, ?)",
            [(kind, value, *held) for value, held in changes.items() if held is not None],
        )
        self._db.executemany(
            "DELETE FROM claim WHERE kind = ? AND value = ?",
            [(kind, value) for value, held in changes.items() if held is None],
        )

    def close(self) -> None:
        self._db.close()
        self._folder.cleanup()


# --- Reading batches and quality ---------------------------------------------------------------------------


def _check_can_view(db: Session, actor: Actor, resource: Resource) -> None:
    """Loads and their quality are for the owning department's stewards and systems, and the operator."""
    if can_oversee(actor):
        return
    check_can_load(db, actor, resource)


def get_batch(db: Session, *, actor: Actor, batch_id: uuid.UUID) -> Batch:
    """One load with its report. Raises BatchNotFound, NotSteward, ScopeNotGranted."""
    batch = db.get(Batch, batch_id)
    resource = db.get(Resource, batch.resource_id) if batch is not None else None
    if batch is None or resource is None:
        raise BatchNotFound()
    _check_can_view(db, actor, resource)
    return batch


def resource_of(db: Session, batch: Batch) -> Resource:
    resource = db.get(Resource, batch.resource_id)
    assert resource is not None  # a foreign key
    return resource


def list_rejections(
    db: Session, *, actor: Actor, batch_id: uuid.UUID, page: int = 1, per_page: int = 100
) -> tuple[list[Rejection], int]:
    """The kept rejections of a load in row order, a page at a time, and how many were kept."""
    get_batch(db, actor=actor, batch_id=batch_id)
    where = Rejection.batch_id == batch_id
    total = db.scalar(select(func.count()).select_from(Rejection).where(where)) or 0
    rows = db.scalars(
        select(Rejection)
        .where(where)
        .order_by(Rejection.row_number, Rejection.id)
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    return list(rows), total


def quality_report(db: Session, *, actor: Actor, resource_code: str, recent: int = 20) -> dict[str, Any]:
    """A resource's data quality over its recent loads: acceptance and rejection rates, the rules that fail
    most, and each load's counts. Raises ResourceNotFound, NotSteward, ScopeNotGranted."""
    resource = get_resource(db, resource_code)
    _check_can_view(db, actor, resource)
    batches = list(
        db.scalars(
            select(Batch)
            .where(Batch.resource_id == resource.id, Batch.status == "completed")
            .order_by(Batch.started_at.desc(), Batch.id)
            .limit(recent)
        )
    )
    failing: Counter[tuple[str | None, str]] = Counter()
    for batch in batches:
        for error in batch.report.get("errors", []):
            failing[(error["field"], error["rule"])] += error["count"]
    sums = {c: sum(getattr(b, c) for b in batches) for c in COUNTS}
    total, accepted, rejected = sums["rows_total"], sums["rows_accepted"], sums["rows_rejected"]
    current = db.scalar(
        select(func.count())
        .select_from(Record)
        .where(Record.resource_id == resource.id, Record.is_deleted.is_(False))
    )
    return {
        "resource": resource.code,
        "records_current": current or 0,
        "data_updated_at": resource.data_updated_at,
        **sums,
        "accepted_rate": round(accepted / total, 4) if total else None,
        "rejected_rate": round(rejected / total, 4) if total else None,
        "top_failing_rules": [
            {"field": field, "rule": rule, "count": count} for (field, rule), count in failing.most_common(10)
        ],
        "batches": [
            {c: getattr(b, c) for c in ("id", "source", "filename", "format", "started_at", *COUNTS)}
            for b in batches
        ],
    }
