"""Open data (开放): which resources and fields the public portal shows, the record queries behind it, the
CSV and JSON downloads, and applications for restricted resources.

Rules. A resource whose open type is ``closed`` does not exist for the portal. An ``open`` resource shows
only the fields whose effective open type (the stricter of the resource's open type and the field's grade
cap) is ``open``, to anyone. A ``restricted`` resource shows its restricted-or-open fields, and only to an
API client holding an approved application (:class:`OpenAccessApplication`); its grade 2 and 3 values are
desensitised (masked) and cannot be filtered or sorted on, so probing with filters cannot reveal them.
Closed fields are never shown.

Filtering, sorting and paging run in SQL over the JSON ``data`` column, with SQLAlchemy's JSON element
access, which compiles to ``JSON_EXTRACT`` on SQLite and ``->>`` on PostgreSQL.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from zerotrip.audit.actions import record_event
from zerotrip.datahub import grades
from zerotrip.datahub.errors import NotOpen, ResourceNotFound
from zerotrip.datahub.models import Field, Record, Resource
from zerotrip.datahub.open_access import has_open_access
from zerotrip.datahub.queries import find_resource, list_fields
from zerotrip.identity.actor import Actor
from zerotrip.problems import FieldError, ValidationFailed

OPEN_KINDS = ("open", "restricted")
RESERVED_PARAMETERS = frozenset({"page", "per_page", "sort"})
CSV_BOM = "\ufeff"  # lets Excel recognise UTF-8, so Chinese text opens correctly
STREAM_ROWS = 1000  # rows fetched per round trip (and per chunk written) while streaming a download


@dataclass(frozen=True)
class OpenView:
    """What one caller may see of one resource: the fields in catalogue order, and which are masked."""

    resource: Resource
    fields: tuple[Field, ...]
    masked: frozenset[str]
    is_restricted: bool

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.fields]

    def shape(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """One record as the caller may receive it: visible fields only, masked where the grade says so."""
        row: dict[str, Any] = {}
        for f in self.fields:
            value = data.get(f.name)
            row[f.name] = (
                grades.mask(value, check_kind=f.check_kind, type_=f.type) if f.name in self.masked else value
            )
        return row


def openable_fields(resource: Resource, fields: Iterable[Field]) -> list[Field]:
    """The fields the portal may ever show: open ones of an open resource, restricted-or-open ones of a
    restricted resource, none of a closed one."""
    if resource.open_type == "open":
        return [f for f in fields if grades.effective_open_type("open", f.grade) == "open"]
    if resource.open_type == "restricted":
        return [f for f in fields if grades.effective_open_type("restricted", f.grade) != "closed"]
    return []


def get_open_resource(db: Session, code: str) -> Resource:
    """An open or restricted resource; a closed one is as good as absent. Raises ResourceNotFound."""
    resource = find_resource(db, code)
    if resource is None or resource.open_type not in OPEN_KINDS:
        raise ResourceNotFound(f"no open data resource has the code {code!r}")
    return resource


def open_view(db: Session, *, actor: Actor, code: str) -> OpenView:
    """What ``actor`` may read of a resource's records. Raises ResourceNotFound (absent or closed) and
    NotOpen (restricted, and the caller is not an API client with an approved application)."""
    resource = get_open_resource(db, code)
    fields = openable_fields(resource, list_fields(db, resource.id))
    if resource.open_type == "open":
        return OpenView(resource, tuple(fields), frozenset(), is_restricted=False)
    if not has_open_access(db, actor=actor, resource=resource):
        raise NotOpen(
            "this resource is restricted: an API client needs an approved application to read it",
            resource=resource.code,
        )
    masked = frozenset(f.name for f in fields if f.grade >= 2)
    return OpenView(resource, tuple(fields), masked, is_restricted=True)


def record_restricted_read(db: Session, *, actor: Actor, view: OpenView, what: str, rows: int | None) -> None:
    """Every read of a restricted resource is logged, like every call for shared data."""
    if view.is_restricted:
        record_event(
            db,
            actor=actor.principal,
            action="datahub.open_data.read",
            subject_type="resource",
            subject_id=view.resource.code,
            data={"what": what, "rows": rows, "fields": view.names},
        )


# -- queries ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordQuery:
    """Equality filters by field name, and sort keys (``-name`` for descending)."""

    filters: Mapping[str, str]
    sort: Sequence[str] = ()

    @classmethod
    def from_parameters(cls, parameters: Iterable[tuple[str, str]], sort: str | None) -> RecordQuery:
        filters = {k: v for k, v in parameters if k not in RESERVED_PARAMETERS}
        keys = [s.strip() for s in (sort or "").split(",") if s.strip()]
        return cls(filters=filters, sort=keys)


def _element(field: Field) -> ColumnElement[Any]:
    """The field's value inside the JSON column, typed so comparisons and ordering are numeric or textual
    as the catalogue says."""
    element: Any = Record.data[field.name]
    if field.type == "integer":
        typed: ColumnElement[Any] = element.as_integer()
    elif field.type == "decimal":
        typed = element.as_float()
    elif field.type == "boolean":
        typed = element.as_boolean()
    else:
        typed = element.as_string()
    return typed


def _parse(field: Field, raw: str) -> Any:
    if field.type == "integer":
        return int(raw)
    if field.type == "decimal":
        return float(raw)
    if field.type == "boolean":
        lowered = raw.lower()
        if lowered not in ("true", "false", "1", "0"):
            raise ValueError(raw)
        return lowered in ("true", "1")
    return raw


def _region_source(resource: Resource) -> tuple[str | None, bool]:
    """The field a record's ``division_code`` is read from first (see ``records.region_of``), and whether
    it is the only source (no fallback to the subject when it is empty)."""
    if resource.region_field:
        only = resource.subject_kind == "none" or (
            resource.subject_kind == "division_code" and resource.subject_field == resource.region_field
        )
        return resource.region_field, only
    if resource.subject_kind == "division_code":
        return resource.subject_field, True
    return None, False


def compile_query(view: OpenView, query: RecordQuery) -> tuple[list[ColumnElement[bool]], list[Any]]:
    """The WHERE and ORDER BY clauses for a query. Raises ValidationFailed naming each filter or sort key
    that is not a visible, unmasked field, or whose value does not fit the field's type. Ordering puts
    nulls last on both engines, then the record id, which breaks ties so pages never overlap or skip rows.

    An equality on the field a record's region comes from is also a condition on the indexed
    ``division_code`` column (a record whose field holds a division code has that code as its region), so
    "one district" reads one index range instead of parsing every record's JSON; where that field is the
    region's only source, the column alone decides and the JSON is not read at all."""
    usable = {f.name: f for f in view.fields if f.name not in view.masked}
    source, is_only_source = _region_source(view.resource)
    errors: list[FieldError] = []
    conditions: list[ColumnElement[bool]] = [
        Record.resource_id == view.resource.id,
        Record.is_deleted.is_(False),
    ]
    for name, raw in query.filters.items():
        field = usable.get(name)
        if field is None:
            errors.append({"detail": "not a field you can filter on", "parameter": name})
            continue
        try:
            value = _parse(field, raw)
        except ValueError:
            errors.append({"detail": f"not a valid {field.type}", "parameter": name})
            continue
        if name == source and len(raw) == 6 and raw.isdigit():
            conditions.append(Record.division_code == raw)
            if is_only_source:
                continue
        conditions.append(_element(field) == value)
    order: list[Any] = []
    for key in query.sort:
        field = usable.get(key.removeprefix("-"))
        if field is None:
            detail = f"{key.removeprefix('-')!r} is not a field you can sort on"
            errors.append({"detail": detail, "parameter": "sort"})
            continue
        expression = _element(field)
        order.append((expression.desc() if key.startswith("-") else expression.asc()).nulls_last())
    if errors:
        raise ValidationFailed(
            "check these parameters: " + ", ".join(e["parameter"] for e in errors), errors=errors
        )
    return conditions, [*order, Record.id]


def record_statement(view: OpenView, query: RecordQuery) -> Select[Any]:
    """The filtered, ordered selection of a resource's live records. Raises ValidationFailed."""
    conditions, order = compile_query(view, query)
    return select(Record.data).where(*conditions).order_by(*order)


def list_open_records(
    db: Session, *, view: OpenView, query: RecordQuery, page: int, per_page: int
) -> tuple[list[dict[str, Any]], int]:
    """One page of records and the number matching in all. The count is its own statement: with no
    sorting to do it is often answered from an index alone. Raises ValidationFailed."""
    conditions, order = compile_query(view, query)
    rows = db.scalars(
        select(Record.data).where(*conditions).order_by(*order).limit(per_page).offset((page - 1) * per_page)
    ).all()
    total = db.scalar(select(func.count()).select_from(Record).where(*conditions)) or 0
    return [view.shape(data) for data in rows], total


def iter_open_records(db: Session, *, view: OpenView, query: RecordQuery) -> Iterator[dict[str, Any]]:
    """Every matching record, streamed by one statement (a consistent snapshot) in batches."""
    result = db.execute(record_statement(view, query).execution_options(yield_per=STREAM_ROWS))
    for row in result:
        yield view.shape(row[0])


# -- downloads --------------------------------------------------------------------------------------


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def csv_chunks(names: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> Iterator[bytes]:
    """UTF-8 CSV with a byte-order mark and a header of field names, a chunk per batch of rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write(CSV_BOM)
    writer.writerow(names)
    for count, row in enumerate(rows, start=1):
        writer.writerow([_csv_cell(row.get(name)) for name in names])
        if count % STREAM_ROWS == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


def json_chunks(rows: Iterable[Mapping[str, Any]]) -> Iterator[bytes]:
    """A JSON array of objects, one per line, a chunk per batch of rows."""
    parts = ["["]
    first = True
    for row in rows:
        parts.append(("\n" if first else ",\n") + json.dumps(row, ensure_ascii=False, separators=(",", ":")))
        first = False
        if len(parts) >= STREAM_ROWS:
            yield "".join(parts).encode()
            parts = []
    parts.append("\n]\n")
    yield "".join(parts).encode()
