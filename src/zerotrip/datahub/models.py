"""Datahub tables, all prefixed ``datahub_``. Organisations and API clients are referred to by id."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from zerotrip.db import Base, JSONType, UTCDateTime, new_uuid

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL wants BIGINT for high-volume tables.
BigId = BigInteger().with_variant(Integer(), "sqlite")

SUBJECT_KINDS = ("resident_id", "uscc", "division_code", "none")
SHARE_TYPES = ("unconditional", "conditional", "none")
OPEN_TYPES = ("open", "restricted", "closed")
FIELD_TYPES = ("string", "integer", "decimal", "date", "datetime", "boolean")
CHECKS = ("resident_id", "uscc", "division_code")
FREQUENCIES = ("realtime", "daily", "weekly", "monthly", "quarterly", "yearly", "irregular")


class Resource(Base):
    """A catalogue entry (数据资源): one department's dataset, described field by field."""

    __tablename__ = "datahub_resource"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(80), nullable=False, unique=True)
    owner_org_id: Mapped[int] = mapped_column(ForeignKey("identity_org.id"), nullable=False, index=True)
    title: Mapped[str] = mapped_column(String(120), nullable=False)
    title_en: Mapped[str | None] = mapped_column(String(160))
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    subject_kind: Mapped[str] = mapped_column(String(16), nullable=False)
    # Field holding the subject key (resident ID, credit code, division code); NULL when subject_kind is none.
    subject_field: Mapped[str | None] = mapped_column(String(60))
    # Fields whose values together identify one record; loads upsert by them.
    key_fields: Mapped[list[str]] = mapped_column(JSONType, nullable=False)
    # Field carrying the division code that return-to-lower-level feeds filter by (defaults from the subject).
    region_field: Mapped[str | None] = mapped_column(String(60))
    share_type: Mapped[str] = mapped_column(String(16), nullable=False)
    open_type: Mapped[str] = mapped_column(String(16), nullable=False)
    grade: Mapped[int] = mapped_column(Integer, nullable=False)  # the highest grade of its fields
    update_frequency: Mapped[str] = mapped_column(String(16), nullable=False)
    legal_basis: Mapped[str] = mapped_column(Text, nullable=False)
    contact: Mapped[str] = mapped_column(String(200), nullable=False)
    keywords: Mapped[list[str]] = mapped_column(JSONType, nullable=False, default=list)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    data_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        CheckConstraint(f"subject_kind IN {SUBJECT_KINDS!r}", name="subject_kind"),
        CheckConstraint(f"share_type IN {SHARE_TYPES!r}", name="share_type"),
        CheckConstraint(f"open_type IN {OPEN_TYPES!r}", name="open_type"),
        CheckConstraint("grade BETWEEN 1 AND 4", name="grade"),
    )


class Field(Base):
    __tablename__ = "datahub_field"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("datahub_resource.id"), nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    name: Mapped[str] = mapped_column(String(60), nullable=False)
    title: Mapped[str] = mapped_column(String(120), nullable=False)
    type: Mapped[str] = mapped_column(String(16), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    grade: Mapped[int] = mapped_column(Integer, nullable=False)
    # Quality rules, checked on every load.
    is_required: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    is_unique: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    pattern: Mapped[str | None] = mapped_column(String(200))
    enumeration: Mapped[list[str] | None] = mapped_column(JSONType)
    check_kind: Mapped[str | None] = mapped_column(String(16))
    # "RESOURCE_CODE.FIELD": every value must exist as that field's value in that resource.
    reference: Mapped[str | None] = mapped_column(String(140))
    # Freshness: a date/datetime value may not be older than this many days (nor in the future).
    max_age_days: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (
        UniqueConstraint("resource_id", "name"),
        CheckConstraint(f"type IN {FIELD_TYPES!r}", name="type"),
        CheckConstraint("grade BETWEEN 1 AND 4", name="grade"),
        CheckConstraint(f"check_kind IS NULL OR check_kind IN {CHECKS!r}", name="check_kind"),
    )


class ResourceVersion(Base):
    """Every saved state of a resource's metadata (versioned catalogue)."""

    __tablename__ = "datahub_resource_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("datahub_resource.id"), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False)
    changed_by: Mapped[str] = mapped_column(String(120), nullable=False)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)

    __table_args__ = (UniqueConstraint("resource_id", "version"),)


class Batch(Base):
    """One aggregation run: a file upload or an API push."""

    __tablename__ = "datahub_batch"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    resource_id: Mapped[int] = mapped_column(ForeignKey("datahub_resource.id"), nullable=False, index=True)
    source: Mapped[str] = mapped_column(String(16), nullable=False)  # upload | push | cli
    filename: Mapped[str | None] = mapped_column(String(200))
    format: Mapped[str] = mapped_column(String(8), nullable=False)  # csv | json | xlsx | records
    status: Mapped[str] = mapped_column(String(16), nullable=False)  # running | completed | failed
    rows_total: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    rows_accepted: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    rows_rejected: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    rows_unchanged: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # Quality report: rejected counts per field and rule, and the first rejections kept in full.
    report: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    submitted_by: Mapped[str] = mapped_column(String(120), nullable=False)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Rejection(Base):
    """A row a load refused, with the reason; kept up to a cap per batch (the report counts them all)."""

    __tablename__ = "datahub_rejection"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    batch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("datahub_batch.id"), nullable=False, index=True)
    row_number: Mapped[int] = mapped_column(Integer, nullable=False)
    field: Mapped[str | None] = mapped_column(String(60))
    rule: Mapped[str] = mapped_column(String(24), nullable=False)
    reason: Mapped[str] = mapped_column(String(300), nullable=False)
    value: Mapped[str | None] = mapped_column(String(200))


class Record(Base):
    """The current state of one record, upserted by its key (system-versioned, see ADR 0001).

    This row alone holds the record's present state, with who wrote it, when and in which batch, and a
    ``change_seq`` that grows with every change (the return feed's cursor); a deletion leaves the row as a
    tombstone (``is_deleted``). A state that a change replaces moves to :class:`RecordHistory`, so a record
    that never changed is one row. ``resource_id`` and ``batch_id`` carry no foreign-key constraint: loads
    write hundreds of thousands of rows, each of which would run two referential checks, and only
    ``records.py`` writes here, with a resource it has read and a batch it has flushed (tests check that
    no record points nowhere).
    """

    __tablename__ = "datahub_record"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    resource_id: Mapped[int] = mapped_column(Integer, nullable=False)
    record_key: Mapped[str] = mapped_column(String(300), nullable=False)
    subject_key: Mapped[str | None] = mapped_column(String(40))
    division_code: Mapped[str | None] = mapped_column(String(6))
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    is_deleted: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    batch_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    changed_by: Mapped[str] = mapped_column(String(120), nullable=False)
    # From the sequence ``datahub_record_change_seq`` on PostgreSQL (also the column's default there, which
    # bulk COPYs use; migration 0005); one more than the resource's highest on SQLite, whose single writer
    # makes that safe. Set by ``records.py`` on every change.
    change_seq: Mapped[int] = mapped_column(BigInteger, nullable=False)

    __table_args__ = (
        UniqueConstraint("resource_id", "record_key"),
        Index("ix_datahub_record_subject", "resource_id", "subject_key"),
        # Open data filters by district and other region-sized reads: the live records of one region.
        Index("ix_datahub_record_region", "resource_id", "division_code", "is_deleted"),
        # The return feed: a resource's changes after a cursor.
        Index("ix_datahub_record_feed", "resource_id", "change_seq"),
    )


class RecordHistory(Base):
    """A state a record had until a change replaced it (SQL:2011's history table): the row as it was, valid
    from ``changed_at`` until ``superseded_at``. Written only by ``records.py``, only when a record changes,
    so no foreign keys (see :class:`Record`)."""

    __tablename__ = "datahub_record_history"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    record_id: Mapped[int] = mapped_column(BigId, nullable=False)
    resource_id: Mapped[int] = mapped_column(Integer, nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    record_key: Mapped[str] = mapped_column(String(300), nullable=False)
    division_code: Mapped[str | None] = mapped_column(String(6))
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False)
    is_deleted: Mapped[bool] = mapped_column(Boolean, nullable=False)
    batch_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    changed_by: Mapped[str] = mapped_column(String(120), nullable=False)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    superseded_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    change_seq: Mapped[int] = mapped_column(BigInteger, nullable=False)

    __table_args__ = (Index("ix_datahub_record_history_record", "record_id", "version"),)


class ShareRequest(Base):
    """A consumer's request (共享申请) for named fields of a resource, for a stated purpose."""

    __tablename__ = "datahub_share_request"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    number: Mapped[str] = mapped_column(String(20), nullable=False, unique=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("datahub_resource.id"), nullable=False, index=True)
    consumer_client_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    consumer_org_id: Mapped[int] = mapped_column(ForeignKey("identity_org.id"), nullable=False)
    fields: Mapped[list[str]] = mapped_column(JSONType, nullable=False)
    purpose: Mapped[str] = mapped_column(String(200), nullable=False)
    legal_basis: Mapped[str] = mapped_column(Text, nullable=False)
    is_clear_requested: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    status: Mapped[str] = mapped_column(
        String(12), nullable=False
    )  # pending | approved | refused | withdrawn
    requested_by: Mapped[str] = mapped_column(String(120), nullable=False)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by: Mapped[str | None] = mapped_column(String(120))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reason: Mapped[str | None] = mapped_column(Text)
    is_escalated: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)


class Grant(Base):
    """What a consumer may read (授权): fields of one resource, for one purpose, until it expires."""

    __tablename__ = "datahub_grant"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    request_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("datahub_share_request.id"))
    resource_id: Mapped[int] = mapped_column(ForeignKey("datahub_resource.id"), nullable=False)
    consumer_client_id: Mapped[str] = mapped_column(String(64), nullable=False)
    fields: Mapped[list[str]] = mapped_column(JSONType, nullable=False)
    purpose: Mapped[str] = mapped_column(String(200), nullable=False)
    is_clear: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    granted_by: Mapped[str] = mapped_column(String(120), nullable=False)
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_by: Mapped[str | None] = mapped_column(String(120))
    revoke_reason: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_datahub_grant_consumer", "consumer_client_id", "resource_id"),)


class Objection(Base):
    """A flag (异议) that a value is wrong, which the owning steward must answer in time."""

    __tablename__ = "datahub_objection"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    number: Mapped[str] = mapped_column(String(20), nullable=False, unique=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("datahub_resource.id"), nullable=False, index=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("datahub_record.id"), nullable=False)
    field: Mapped[str] = mapped_column(String(60), nullable=False)
    subject_key: Mapped[str | None] = mapped_column(String(40), index=True)
    raised_by: Mapped[str] = mapped_column(String(120), nullable=False)
    claim: Mapped[str] = mapped_column(Text, nullable=False)
    proposed_value: Mapped[str | None] = mapped_column(String(200))
    evidence: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), nullable=False)  # open | corrected | rejected
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_by: Mapped[str | None] = mapped_column(String(120))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    corrected_version: Mapped[int | None] = mapped_column(Integer)


class OpenAccessApplication(Base):
    """An application to use a restricted open resource; approval lets an API client read it."""

    __tablename__ = "datahub_open_application"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    resource_id: Mapped[int] = mapped_column(ForeignKey("datahub_resource.id"), nullable=False, index=True)
    client_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    applicant: Mapped[str] = mapped_column(String(120), nullable=False)
    purpose: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(String(12), nullable=False)  # pending | approved | refused
    applied_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    decided_by: Mapped[str | None] = mapped_column(String(120))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reason: Mapped[str | None] = mapped_column(Text)
