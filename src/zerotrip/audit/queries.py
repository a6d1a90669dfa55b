"""Audit reads."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from zerotrip.audit.models import AuditEvent


def list_events_for_subject(
    db: Session, *, subject_type: str, subject_id: str, limit: int = 100
) -> list[AuditEvent]:
    """The newest ``limit`` events about one subject, newest first (served by ix_audit_event_subject)."""
    return list(
        db.scalars(
            select(AuditEvent)
            .where(AuditEvent.subject_type == subject_type, AuditEvent.subject_id == subject_id)
            .order_by(AuditEvent.id.desc())
            .limit(limit)
        )
    )
