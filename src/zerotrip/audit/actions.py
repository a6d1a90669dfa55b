"""Writing to the audit log. Events are added to the caller's transaction, never committed here."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.orm import Session

from zerotrip.audit.digest import canonical_json, event_digest
from zerotrip.audit.models import AuditEvent
from zerotrip.common import clock
from zerotrip.common.context import request_id as current_request_id


def record_event(
    db: Session,
    *,
    actor: str,
    action: str,
    subject_type: str,
    subject_id: str,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event in the caller's transaction, so it exists exactly when the change it records does.

    ``actor`` is a principal string such as ``staff:<uuid>``, ``citizen:<uuid>``, ``client:<id>`` or
    ``system:cli``; ``action`` is ``context.thing.past_tense``.
    """
    occurred_at = clock.now()
    # Round-trip through canonical JSON so what is hashed is exactly what the JSON column gives back.
    payload = json.loads(canonical_json(data or {}))
    req = current_request_id.get()
    event = AuditEvent(
        occurred_at=occurred_at,
        actor=actor,
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        data=payload,
        request_id=req,
        digest=event_digest(
            occurred_at=occurred_at,
            actor=actor,
            action=action,
            subject_type=subject_type,
            subject_id=subject_id,
            data=payload,
            request_id=req,
        ),
    )
    db.add(event)
    return event
