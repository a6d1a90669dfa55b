"""Writing to the audit log. Events are added to the caller's transaction, never committed here."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC
from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from zerotrip.audit.digest import canonical_json, event_digest, is_plain, plain_event_digest
from zerotrip.audit.models import AuditEvent
from zerotrip.bulk import insert_many
from zerotrip.common import clock
from zerotrip.common.context import request_id as current_request_id
from zerotrip.db import Driver


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


_EVENTS = cast(Table, AuditEvent.__table__)


def record_events(
    db: Session | Driver,
    *,
    actor: str,
    action: str,
    events: Iterable[tuple[str, str, dict[str, Any] | None]],
) -> int:
    """Append many events of one actor and action, given as ``(subject_type, subject_id, data)``, with one
    multi-row insert in the caller's transaction; returns how many.

    Each event is what ``record_event`` would write for it at the same instant (same columns, same digest),
    so checkpoints seal and verify them like any other; they take ids in the order given. Events other
    code has added to the session are flushed first, so ids still follow the order of recording. Inside
    ``batched(db)`` the rows are kept and written with the scope's other events when it ends.
    """
    rows = _rows(actor, action, events)
    _write(db, rows)
    return len(rows)


def record_one(
    db: Session,
    *,
    actor: str,
    action: str,
    subject_type: str,
    subject_id: str,
    data: dict[str, Any] | None = None,
) -> bytes:
    """``record_event`` through ``record_events``' path (kept for the end of a ``batched`` block, else
    inserted at once); returns the event's digest, for code that tells events apart by it."""
    (row,) = _rows(actor, action, [(subject_type, subject_id, data)])
    _write(db, [row])
    return cast(bytes, row["digest"])


def _write(db: Session | Driver, rows: list[dict[str, Any]]) -> None:
    # A driver on a session's connection (the gateway's, in process) joins that session's batch.
    session = db.own_session if isinstance(db, Driver) else db
    pending: list[dict[str, Any]] | None = session.info.get(_PENDING) if session is not None else None
    if pending is not None:
        pending.extend(rows)
    elif rows:
        insert_many(db, _EVENTS, rows)  # flushes first: events other code added keep their order


def _rows(
    actor: str, action: str, events: Iterable[tuple[str, str, dict[str, Any] | None]]
) -> list[dict[str, Any]]:
    occurred_at = clock.now()
    instant = occurred_at.astimezone(UTC).isoformat(timespec="microseconds")
    req = current_request_id.get()
    rows = []
    for subject_type, subject_id, data in events:
        payload = data or {}
        digest = (
            plain_event_digest(
                occurred_at=instant,
                actor=actor,
                action=action,
                subject_type=subject_type,
                subject_id=subject_id,
                data=payload,
                request_id=req,
            )
            if is_plain(payload)
            else None
        )
        if digest is None:
            # As record_event: hash exactly what the JSON column gives back.
            payload = json.loads(canonical_json(payload))
            digest = event_digest(
                occurred_at=occurred_at,
                actor=actor,
                action=action,
                subject_type=subject_type,
                subject_id=subject_id,
                data=payload,
                request_id=req,
            )
        rows.append(
            {
                "occurred_at": occurred_at,
                "actor": actor,
                "action": action,
                "subject_type": subject_type,
                "subject_id": subject_id,
                "data": payload,
                "request_id": req,
                "digest": digest,
            }
        )
    return rows


_PENDING = "zerotrip.audit.pending"


@contextmanager
def batched(db: Session) -> Iterator[None]:
    """Keep the events ``record_events`` records in ``db`` within the block and write them all with one
    multi-row INSERT when it ends, in the order recorded (a use case that audits several reads and its own
    step: one statement instead of one per call). Each event keeps the instant, request id and digest it
    was recorded with. Events added meanwhile through ``record_event`` (ORM objects) are flushed first and
    so take lower ids; the audit chain only needs each event's digest and id. If the block raises, the
    events kept so far are still written (a caller may catch the error and commit what succeeded),
    unless the error is the database's, which leaves nothing to write them with. A nested ``batched``
    on the same session adds to the outer one."""
    if _PENDING in db.info:
        yield
        return
    pending: list[dict[str, Any]] = []
    db.info[_PENDING] = pending
    try:
        yield
    except SQLAlchemyError:
        del db.info[_PENDING]
        raise
    except BaseException:
        del db.info[_PENDING]
        if pending:
            insert_many(db, _EVENTS, pending)
        raise
    del db.info[_PENDING]
    if pending:
        insert_many(db, _EVENTS, pending)
