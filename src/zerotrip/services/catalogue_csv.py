"""Service catalogues as CSV: what ``zerotrip services trips`` reads and what the catalogue exports.

One row per item. The columns and the small notation for materials and steps are documented in
``docs/services.md``; this module is the one place that reads and writes them, so an exported catalogue
reads back as the same items and gives the same trip analysis as the operator's page. A large catalogue
repeats the same materials, sources and steps across departments, so their parsed (immutable) values are
cached by their text.
"""

from __future__ import annotations

import csv
import functools
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TextIO, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from zerotrip.problems import FieldError
from zerotrip.services import trips
from zerotrip.services.errors import InvalidCatalogueFile
from zerotrip.services.models import LIFE_EVENTS, Item
from zerotrip.services.queries import Departments, list_events, trip_items
from zerotrip.services.schemas import ITEM_CODE_RE, parse_holder, source_problem

REQUIRED = ("code", "name", "department", "level", "channels", "promised_days", "materials")
OPTIONAL = ("name_en", "type", "statutory_days", "is_instant", "life_events", "steps")
COLUMNS = (
    "code",
    "name",
    "name_en",
    "department",
    "level",
    "type",
    "channels",
    "promised_days",
    "statutory_days",
    "is_instant",
    "life_events",
    "materials",
    "steps",
)
LEVEL_NAMES = {"province": "province", "city": "city", "county": "county"} | {
    "省级": "province",
    "市级": "city",
    "县级": "county",
}
MAX_ERRORS = 20
T = TypeVar("T")
_SOURCE = re.compile(
    r"(?P<kind>[a-z_]+)(?::(?P<ref>[^()@\s]+))?(?:\((?P<fields>[^()]*)\))?(?:@(?P<holder>\S+))?"
)


@dataclass(frozen=True)
class CatalogueRow:
    """An item as a row: what trip counting reads, and the guide's other columns."""

    item: trips.Item
    name_en: str | None = None
    type: str = ""
    statutory_days: int | None = None
    is_instant: bool = False
    life_events: tuple[str, ...] = ()


# -- the notation ------------------------------------------------------------------------------------


def format_source(source: trips.Source) -> str:
    text: str = source.kind
    if source.ref is not None:
        text += f":{source.ref}"
    if source.is_exists:
        text += "(exists)"
    elif source.fields:
        text += f"({','.join(source.fields)})"
    if source.held_by is not None:
        text += f"@{source.held_by.label}"
    return text


@functools.lru_cache(maxsize=65_536)
def parse_source(text: str) -> trips.Source:
    """``datahub:330000-land.real-estate(exists)``, ``onsite@datahub:330000-psb.household`` … as a Source.
    Raises ValueError."""
    match = _SOURCE.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not KIND[:REF][(FIELDS)][@HOLDER]")
    kind, ref, fields_text, holder = match.group("kind", "ref", "fields", "holder")
    exists = fields_text is not None and fields_text.strip() == "exists"
    fields = () if exists or not fields_text else tuple(f.strip() for f in fields_text.split(","))
    problem = source_problem(kind, ref=ref, fields=fields, exists=exists, held_by=holder)
    if problem:
        raise ValueError(problem)
    return trips.Source(
        kind=kind,  # type: ignore[arg-type]
        ref=ref,
        fields=fields,
        is_exists=exists,
        held_by=parse_holder(holder) if holder else None,
    )


def clear_caches() -> None:
    """Forget the parsed values (benchmarks start each run cold)."""
    for cached in (parse_source, parse_materials, parse_steps, _list):
        cached.cache_clear()


def format_materials(materials: Iterable[trips.Material]) -> str:
    return "; ".join(f"{m.name}={format_source(m.source)}" for m in materials)


@functools.lru_cache(maxsize=65_536)
def parse_materials(text: str) -> tuple[trips.Material, ...]:
    found = []
    names = set()
    for entry in text.split(";"):
        if not entry.strip():
            continue
        name, equals, source = entry.partition("=")
        name = name.strip()
        if not equals or not name:
            raise ValueError(f"{entry.strip()!r} is not NAME=SOURCE")
        if name in names:
            raise ValueError(f"{name} is listed twice")
        names.add(name)
        found.append(trips.Material(name, parse_source(source)))
    return tuple(found)


def format_steps(steps: Iterable[trips.Step]) -> str:
    return ";".join(s.kind if s.presence == "none" else f"{s.kind}:{s.presence}" for s in steps)


@functools.lru_cache(maxsize=4_096)
def parse_steps(text: str) -> tuple[trips.Step, ...]:
    """``accept:onsite;review;decide;issue:onsite``; empty means the four steps with nobody in person."""
    if not text.strip():
        return trips.DEFAULT_STEPS
    steps = []
    for entry in text.split(";"):
        kind, _, presence = entry.strip().partition(":")
        presence = presence or "none"
        if kind not in trips.STEP_KINDS:
            raise ValueError(f"{kind!r} is not a step (one of {', '.join(trips.STEP_KINDS)})")
        if presence not in trips.PRESENCES:
            raise ValueError(f"{presence!r} is not a presence (one of {', '.join(trips.PRESENCES)})")
        steps.append(trips.Step(kind, presence))  # type: ignore[arg-type]
    problem = trips.step_order_problem([s.kind for s in steps])
    if problem:
        raise ValueError(problem)
    return tuple(steps)


@functools.lru_cache(maxsize=4_096)
def _list(text: str, allowed: tuple[str, ...], what: str) -> tuple[str, ...]:
    values = tuple(v.strip() for v in text.split(";") if v.strip())
    unknown = [v for v in values if v not in allowed]
    if unknown:
        raise ValueError(f"not {what}: {', '.join(unknown)}")
    return values


def _days(text: str) -> int:
    if not text.strip().isdigit():
        raise ValueError("a number of working days")
    return int(text)


def _flag(text: str) -> bool:
    value = text.strip().lower()
    if value in ("", "0", "false", "no", "否"):
        return False
    if value in ("1", "true", "yes", "是"):
        return True
    raise ValueError("true or false")


# -- reading and writing files -----------------------------------------------------------------------


def read_catalogue(lines: Iterable[str]) -> list[trips.Item]:
    """Every row of a CSV catalogue as an item. Raises InvalidCatalogueFile listing the first problems
    (rows numbered as records in the file, the header being row 1)."""
    return [row.item for row in read_rows(lines)]


def read_rows(lines: Iterable[str]) -> list[CatalogueRow]:
    reader = csv.reader(iter(lines))
    header = [name.strip().lstrip("\ufeff") for name in next(reader, [])]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise InvalidCatalogueFile(
            f"missing columns: {', '.join(missing)}",
            errors=[{"detail": f"missing column {c}", "pointer": "#/rows/1"} for c in missing],
        )
    # Only the columns read, each by its first position (other columns are ignored), stripped once.
    positions = {name: header.index(name) for name in COLUMNS if name in header}
    rows: list[CatalogueRow] = []
    errors: list[FieldError] = []
    codes: set[str] = set()
    for number, values in enumerate(reader, start=2):
        if not any(v.strip() for v in values):
            continue  # a blank line
        width = len(values)
        record = {name: values[i].strip() if i < width else "" for name, i in positions.items()}
        row = _row(record, number, errors, codes)
        if row is not None:
            rows.append(row)
        if len(errors) >= MAX_ERRORS:
            break
    if errors:
        raise InvalidCatalogueFile(
            f"{len(errors)} problems, the first on row {_row_of(errors[0])}", errors=errors
        )
    return rows


def _row_of(error: FieldError) -> str:
    return error.get("pointer", "").split("/")[2]


def _row(
    record: dict[str, str], number: int, errors: list[FieldError], codes: set[str]
) -> CatalogueRow | None:
    def cell(column: str) -> str:
        return record.get(column, "")

    def fail(column: str, detail: str) -> None:
        errors.append({"detail": detail, "pointer": f"#/rows/{number}/{column}"})

    before = len(errors)
    code = cell("code")
    if not ITEM_CODE_RE.fullmatch(code):
        fail("code", "an item code of letters, digits, dots and hyphens")
    elif code in codes:
        fail("code", f"{code} is on an earlier row")
    codes.add(code)
    for column in ("name", "department"):
        if not cell(column):
            fail(column, "is required")
    level = LEVEL_NAMES.get(cell("level"))
    if level is None:
        fail("level", "province, city or county")

    def parse(column: str, reader: Callable[[str], T]) -> T | None:
        try:
            return reader(cell(column))
        except ValueError as error:
            fail(column, str(error))
            return None

    channels = parse("channels", lambda t: _list(t, trips.CHANNELS, "channels"))
    if not cell("channels"):
        fail("channels", "name at least one channel")
    promised_days = parse("promised_days", _days)
    materials = parse("materials", parse_materials)
    steps = parse("steps", parse_steps)
    is_instant = parse("is_instant", _flag)
    life_events = parse("life_events", lambda t: _list(t, LIFE_EVENTS, "life events"))
    statutory = cell("statutory_days")
    if statutory and not statutory.isdigit():
        fail("statutory_days", "a number of working days")
    if (
        len(errors) > before
        or level is None
        or channels is None
        or promised_days is None
        or materials is None
        or steps is None
        or is_instant is None
        or life_events is None
    ):
        return None
    item = trips.Item(
        code=code,
        name=cell("name"),
        department=cell("department"),
        level=level,
        channels=frozenset(channels),
        promised_days=promised_days,
        materials=materials,
        steps=steps,
    )
    return CatalogueRow(
        item=item,
        name_en=cell("name_en") or None,
        type=cell("type"),
        statutory_days=int(statutory) if statutory else None,
        is_instant=is_instant,
        life_events=life_events,
    )


def write_catalogue(out: TextIO, rows: Iterable[CatalogueRow]) -> int:
    """Write ``rows`` as a CSV catalogue; returns how many were written."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    written = 0
    for row in rows:
        item = row.item
        writer.writerow(
            [
                item.code,
                item.name,
                row.name_en or "",
                item.department,
                item.level,
                row.type,
                ";".join(c for c in trips.CHANNELS if c in item.channels),
                item.promised_days,
                "" if row.statutory_days is None else row.statutory_days,
                "true" if row.is_instant else "false",
                ";".join(row.life_events),
                format_materials(item.materials),
                format_steps(item.steps),
            ]
        )
        written += 1
    return written


def catalogue_rows(db: Session, *, chunk: int = 500) -> Iterator[CatalogueRow]:
    """The stored catalogue as rows, in code order, read a chunk of items at a time."""
    departments = Departments(db)
    offset = 0
    while True:
        items = list(db.scalars(select(Item).order_by(Item.code).offset(offset).limit(chunk)))
        if not items:
            return
        events = list_events(db, [i.id for i in items])
        for item, counted in zip(items, trip_items(db, items, departments), strict=True):
            yield CatalogueRow(
                item=counted,
                name_en=item.name_en,
                type=item.type,
                statutory_days=item.statutory_days,
                is_instant=item.is_instant,
                life_events=tuple(events[item.id]),
            )
        offset += chunk
