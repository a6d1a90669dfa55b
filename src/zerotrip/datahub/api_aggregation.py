"""Aggregation API: upload files, push records, read loads, their rejections and a resource's quality."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, UploadFile
from pydantic import BaseModel, ConfigDict, Field

from zerotrip.datahub import aggregation, queries, readers
from zerotrip.datahub.models import Batch
from zerotrip.db import transaction
from zerotrip.deps import DB, CurrentActor

router = APIRouter(tags=["datahub: aggregation"])  # included by datahub.api under /api/datahub


class ErrorCount(BaseModel):
    field: str | None
    rule: str
    count: int


class RejectionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    row_number: int = Field(description="Spreadsheet row (header = 1), JSON Lines line, or item from 1.")
    field: str | None
    rule: str
    reason: str
    value: str | None = None


class BatchReport(BaseModel):
    rows_written: int = Field(0, description="Accepted rows that created or changed a record.")
    errors: list[ErrorCount] = Field(default_factory=list, description="Errors by field and rule.")
    examples: list[RejectionRead] = Field(default_factory=list, description="The first rejections.")
    rejections_kept: int = Field(0, description="Rejections stored and listed under /rejections.")


class BatchRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    resource: str
    source: str
    filename: str | None
    format: str
    status: str
    rows_total: int
    rows_accepted: int = Field(description="Rows that passed every rule, unchanged ones included.")
    rows_rejected: int
    rows_unchanged: int = Field(description="Accepted rows equal to the stored record (no new version).")
    submitted_by: str
    started_at: datetime
    finished_at: datetime | None
    report: BatchReport


class RejectionPage(BaseModel):
    items: list[RejectionRead]
    total: int
    page: int
    per_page: int


class RecordPush(BaseModel):
    records: list[dict[str, Any]] = Field(
        min_length=1, max_length=aggregation.PUSH_LIMIT, description="Records keyed by field name."
    )


class BatchSummary(BaseModel):
    id: uuid.UUID
    source: str
    filename: str | None
    format: str
    started_at: datetime
    rows_total: int
    rows_accepted: int
    rows_rejected: int
    rows_unchanged: int


class QualityRead(BaseModel):
    resource: str
    records_current: int
    data_updated_at: datetime | None
    rows_total: int
    rows_accepted: int
    rows_rejected: int
    rows_unchanged: int
    accepted_rate: float | None
    rejected_rate: float | None
    top_failing_rules: list[ErrorCount]
    batches: list[BatchSummary]


def batch_read(batch: Batch, resource_code: str) -> BatchRead:
    return BatchRead.model_validate(
        {
            **{name: getattr(batch, name) for name in BatchRead.model_fields if hasattr(batch, name)},
            "resource": resource_code,
            "report": BatchReport.model_validate(batch.report),
        }
    )


@router.post(
    "/resources/{code}/batches",
    response_model=BatchRead,
    status_code=201,
    summary="Upload a CSV, JSON or XLSX file of records",
)
def upload_batch(
    code: str,
    db: DB,
    actor: CurrentActor,
    file: Annotated[UploadFile, File(description="CSV (UTF-8 or GB18030), JSON, JSON Lines or XLSX.")],
    format: Annotated[str | None, Form(description="csv, json, jsonl or xlsx; default: by name.")] = None,
) -> BatchRead:
    # The upload is already spooled to a temporary file; rows are read from it one at a time.
    file_format = readers.format_of(file.filename, format)
    with transaction(db):
        resource = queries.get_resource(db, code)
        aggregation.check_can_load(db, actor, resource)  # before reading a stranger's file
        rows = readers.read_rows(file.file, format=file_format, fields=queries.list_fields(db, resource.id))
        batch = aggregation.load_rows(
            db,
            actor=actor,
            resource_code=code,
            rows=rows,
            source="upload",
            filename=file.filename,
            format=file_format,
        )
        return batch_read(batch, code)


@router.post("/resources/{code}/records", response_model=BatchRead, status_code=201, summary="Push records")
def push_records(code: str, body: RecordPush, db: DB, actor: CurrentActor) -> BatchRead:
    with transaction(db):
        batch = aggregation.push_records(db, actor=actor, resource_code=code, records=body.records)
        return batch_read(batch, code)


@router.get("/batches/{batch_id}", response_model=BatchRead, summary="A load and its quality report")
def read_batch(batch_id: uuid.UUID, db: DB, actor: CurrentActor) -> BatchRead:
    batch = aggregation.get_batch(db, actor=actor, batch_id=batch_id)
    return batch_read(batch, aggregation.resource_of(db, batch).code)


@router.get("/batches/{batch_id}/rejections", response_model=RejectionPage, summary="The rows a load refused")
def read_rejections(
    batch_id: uuid.UUID,
    db: DB,
    actor: CurrentActor,
    page: int = Query(1, ge=1),
    per_page: int = Query(100, ge=1, le=1000),
) -> RejectionPage:
    rows, total = aggregation.list_rejections(
        db, actor=actor, batch_id=batch_id, page=page, per_page=per_page
    )
    items = [RejectionRead.model_validate(r) for r in rows]
    return RejectionPage(items=items, total=total, page=page, per_page=per_page)


@router.get("/resources/{code}/quality", response_model=QualityRead, summary="A resource's data quality")
def read_quality(code: str, db: DB, actor: CurrentActor) -> QualityRead:
    return QualityRead.model_validate(aggregation.quality_report(db, actor=actor, resource_code=code))
