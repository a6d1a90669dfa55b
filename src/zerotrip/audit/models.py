"""Audit tables. Events are insert-only; checkpoints seal ranges of them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from zerotrip.db import Base, JSONType, UTCDateTime

# SQLite only auto-increments an INTEGER PRIMARY KEY, PostgreSQL wants a BIGINT identity.
EventId = BigInteger().with_variant(Integer(), "sqlite")


class AuditEvent(Base):
    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(EventId, primary_key=True, autoincrement=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    actor: Mapped[str] = mapped_column(String(120), nullable=False)
    action: Mapped[str] = mapped_column(String(120), nullable=False)
    subject_type: Mapped[str] = mapped_column(String(60), nullable=False)
    subject_id: Mapped[str] = mapped_column(String(120), nullable=False)
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False)
    request_id: Mapped[str | None] = mapped_column(String(64))
    digest: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)

    __table_args__ = (
        Index("ix_audit_event_subject", "subject_type", "subject_id"),
        Index("ix_audit_event_occurred_at", "occurred_at"),
    )


class AuditCheckpoint(Base):
    __tablename__ = "audit_checkpoint"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sealed_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    first_event_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    last_event_id: Mapped[int] = mapped_column(BigInteger, nullable=False, unique=True)
    event_count: Mapped[int] = mapped_column(Integer, nullable=False)
    # (event id, leaf digest) pairs, 8 + 32 bytes each, in id order: lets verify name the first bad event.
    leaves: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    merkle_root: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)
    previous_digest: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)
    key_id: Mapped[str] = mapped_column(String(64), nullable=False)
    signature: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    note: Mapped[str | None] = mapped_column(Text)
