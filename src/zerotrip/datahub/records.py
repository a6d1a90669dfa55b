"""Versioned records: the one place that changes a record, so every change is a version and a feed entry."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from zerotrip.common import clock
from zerotrip.datahub.models import Record, RecordVersion, Resource


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
