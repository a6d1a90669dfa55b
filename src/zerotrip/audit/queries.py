"""Audit reads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
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


@dataclass(frozen=True)
class EventCount:
    """How many events of one action carried one value under ``key``, with the newest such event's data."""

    value: str
    count: int
    newest_data: dict[str, Any]


def count_events_by(
    db: Session, *, action: str, key: str, since: datetime, limit: int = 10
) -> list[EventCount]:
    """Events of ``action`` since ``since`` grouped by ``data[key]``, the most frequent first."""
    value = AuditEvent.data[key].as_string()
    count = func.count().label("n")
    rows = db.execute(
        select(value, count, func.max(AuditEvent.id))
        .where(AuditEvent.action == action, AuditEvent.occurred_at >= since)
        .group_by(value)
        .order_by(count.desc(), value)
        .limit(limit)
    ).all()
    newest = {
        e.id: e.data for e in db.scalars(select(AuditEvent).where(AuditEvent.id.in_([r[2] for r in rows])))
    }
    return [EventCount(value=str(v), count=int(n), newest_data=dict(newest.get(i, {}))) for v, n, i in rows]


def count_events(db: Session, *, action: str, since: datetime) -> int:
    query = select(func.count()).where(AuditEvent.action == action, AuditEvent.occurred_at >= since)
    return int(db.scalar(query) or 0)
