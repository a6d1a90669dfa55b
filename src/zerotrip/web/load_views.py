"""View-models of loading a file: the upload form, running the load, and a load's report with its
rejected rows, each reason in words the steward reads."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import IO

from sqlalchemy.orm import Session

from zerotrip.datahub import aggregation, queries, readers
from zerotrip.datahub.errors import BatchNotFound
from zerotrip.identity.actor import Actor
from zerotrip.web import datahub_text as words
from zerotrip.web.datahub_text import Text, phrase
from zerotrip.web.datahub_views import RuleCount, rule_counts
from zerotrip.web.i18n import N_
from zerotrip.web.page_kit import Pager, china_time, pager

REJECTIONS_PER_PAGE = 50
BATCH_STATUS = {"running": N_("Running"), "completed": N_("Completed"), "failed": N_("Failed")}
FORMATS = (("csv", "CSV"), ("json", "JSON"), ("jsonl", "JSON Lines"), ("xlsx", "XLSX"))


@dataclass(frozen=True)
class FieldHint:
    name: str
    title: str
    type_label: str
    is_required: bool


@dataclass(frozen=True)
class LoadForm:
    code: str
    title: str
    title_en: str | None
    fields: tuple[FieldHint, ...]
    header: str  # an example first row
    formats: tuple[tuple[str, str], ...] = FORMATS


@dataclass(frozen=True)
class RejectionRow:
    row_number: int
    field: str | None
    rule_label: str
    reason: Text
    value: str | None


@dataclass(frozen=True)
class BatchView:
    id: str
    resource_code: str
    resource_title: str
    resource_title_en: str | None
    filename: str
    format: str
    source_label: str
    status_label: str
    submitted_at: str
    finished_at: str
    rows_total: int
    rows_accepted: int
    rows_rejected: int
    rows_unchanged: int
    rows_written: int
    errors: tuple[RuleCount, ...]
    rejections: tuple[RejectionRow, ...]
    rejections_kept: int
    pager: Pager


def load_form(db: Session, actor: Actor, code: str) -> LoadForm:
    """The upload form, for those who may load the resource. Raises ResourceNotFound, NotSteward."""
    found = queries.get_resource(db, code)
    aggregation.check_can_load(db, actor, found)
    fields = queries.list_fields(db, found.id)
    return LoadForm(
        code=found.code,
        title=found.title,
        title_en=found.title_en,
        fields=tuple(
            FieldHint(
                name=f.name,
                title=f.title,
                type_label=words.TYPE_LABELS[f.type],
                is_required=f.is_required or f.name in found.key_fields,
            )
            for f in fields
        ),
        header=",".join(f.name for f in fields),
    )


def load_file(
    db: Session, actor: Actor, *, code: str, file: IO[bytes], filename: str, format: str | None
) -> uuid.UUID:
    """Read the uploaded file row by row into the resource; returns the load's id. Raises UnreadableFile
    (the whole file is refused, nothing is stored), ResourceNotFound, NotSteward."""
    file_format = readers.format_of(filename, format or None)
    found = queries.get_resource(db, code)
    aggregation.check_can_load(db, actor, found)  # before reading a stranger's file
    rows = readers.read_rows(file, format=file_format, fields=queries.list_fields(db, found.id))
    batch = aggregation.load_rows(
        db,
        actor=actor,
        resource_code=code,
        rows=rows,
        source="upload",
        filename=filename,
        format=file_format,
    )
    return batch.id


def parse_batch_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise BatchNotFound() from None


def batch(db: Session, actor: Actor, batch_id: uuid.UUID, *, page: int) -> BatchView:
    """A load's counts, its errors by rule, and a page of its rejected rows. Raises BatchNotFound,
    NotSteward."""
    found = aggregation.get_batch(db, actor=actor, batch_id=batch_id)
    owner = aggregation.resource_of(db, found)
    titles = {f.name: f.title for f in queries.list_fields(db, owner.id)}
    rejected, kept = aggregation.list_rejections(
        db, actor=actor, batch_id=batch_id, page=page, per_page=REJECTIONS_PER_PAGE
    )
    report = found.report or {}
    path = f"/staff/datahub/batches/{batch_id}"
    return BatchView(
        id=str(found.id),
        resource_code=owner.code,
        resource_title=owner.title,
        resource_title_en=owner.title_en,
        filename=found.filename or "",
        format=found.format.upper(),
        source_label=words.SOURCE_LABELS.get(found.source, found.source),
        status_label=BATCH_STATUS.get(found.status, found.status),
        submitted_at=china_time(found.started_at),
        finished_at=china_time(found.finished_at),
        rows_total=found.rows_total,
        rows_accepted=found.rows_accepted,
        rows_rejected=found.rows_rejected,
        rows_unchanged=found.rows_unchanged,
        rows_written=int(report.get("rows_written", 0)),
        errors=rule_counts(report.get("errors", []), titles),
        rejections=tuple(
            RejectionRow(
                row_number=r.row_number,
                field=titles.get(r.field, r.field) if r.field else None,
                rule_label=words.RULE_LABELS.get(r.rule, r.rule),
                reason=phrase(r.reason),
                value=r.value,
            )
            for r in rejected
        ),
        rejections_kept=kept,
        pager=pager(path, {}, page=page, per_page=REJECTIONS_PER_PAGE, total=kept),
    )
