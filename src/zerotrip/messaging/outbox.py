"""The outbox's bookkeeping: claiming due deliveries under a lease, and recording what became of each.

Every statement here runs in a transaction the worker opens (one per step) and is fenced by the worker's
token: a write names ``claimed_by = token`` and the status it expects, so a worker whose lease lapsed and
whose deliveries another worker claimed writes nothing and learns that it lost them.

A delivery's life: ``pending`` (due at ``due_at``) → claimed: ``sending`` (leased until ``due_at``) →
``handing_over`` (committed just before the message's one step of no return) → ``sent``; or back to
``pending`` with an exponential backoff after a refusal that may pass, or ``failed`` after a permanent
refusal or too many attempts. A lapsed ``sending`` lease is claimed again (nothing was delivered); a
lapsed ``handing_over`` is settled as sent without confirmation (the message may well have been
delivered, and sending it again could deliver it twice).

PostgreSQL claims with ``FOR UPDATE SKIP LOCKED``, so workers claiming at once take different rows
without waiting for each other; SQLite runs one writer at a time, and the claim is one UPDATE, so two
workers can never take the same row there either.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Table, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from zerotrip.config import MessagingSettings
from zerotrip.messaging.models_notifications import Delivery, InboxEntry, Notification

_D = cast(Table, Delivery.__table__)
_N = cast(Table, Notification.__table__)
_INBOX = cast(Table, InboxEntry.__table__)
IN_FLIGHT = ("pending", "sending", "handing_over")
INTERRUPTED = "the worker stopped while handing it over; counted as sent and not sent again"


@dataclass(frozen=True)
class Claimed:
    """A claimed delivery with what is needed to write its message."""

    id: uuid.UUID
    notification_id: uuid.UUID
    person_id: uuid.UUID
    channel: str
    address: str | None
    attempts: int
    template: str
    params: dict[str, Any]
    language: str
    link: str | None


def backoff(attempts: int, settings: MessagingSettings) -> timedelta:
    """The wait after the ``attempts``-th failed attempt: the base, doubling each time, capped."""
    seconds = settings.backoff_seconds * 2 ** min(max(attempts - 1, 0), 30)
    return timedelta(seconds=min(seconds, settings.backoff_max_seconds))


def settle_lapsed(db: Session, *, now: datetime, settings: MessagingSettings) -> int:
    """Settle deliveries whose worker stopped: one stopped while handing over counts as sent
    (unconfirmed); one stopped while sending for the last allowed attempt has failed. Returns how many."""
    handed = db.execute(
        update(_D)
        .where(_D.c.status == "handing_over", _D.c.due_at <= now)
        .values(
            status="sent",
            is_confirmed=False,
            sent_at=_D.c.updated_at,
            claimed_by=None,
            last_error=INTERRUPTED,
            updated_at=now,
        )
    )
    exhausted = db.execute(
        update(_D)
        .where(_D.c.status == "sending", _D.c.due_at <= now, _D.c.attempts >= settings.max_attempts)
        .values(
            status="failed",
            claimed_by=None,
            last_error=f"the worker stopped during each of {settings.max_attempts} attempts",
            updated_at=now,
        )
    )
    return _count(handed) + _count(exhausted)


def claim(
    db: Session, *, token: str, now: datetime, settings: MessagingSettings, limit: int
) -> list[Claimed]:
    """Claim up to ``limit`` due deliveries (pending ones, and lapsed claims of stopped workers), the
    longest waiting first, under a lease of ``settings.lease_seconds``; each claim counts an attempt."""
    due = (
        select(_D.c.id)
        .where(
            _D.c.status.in_(("pending", "sending")), _D.c.due_at <= now, _D.c.attempts < settings.max_attempts
        )
        .order_by(_D.c.due_at)
        .limit(limit)
        .with_for_update(skip_locked=True)  # PostgreSQL; SQLite has no row locks and renders nothing
    )
    ids = list(
        db.scalars(
            update(_D)
            .where(_D.c.id.in_(due.scalar_subquery()))
            .values(
                status="sending",
                claimed_by=token,
                due_at=now + timedelta(seconds=settings.lease_seconds),
                attempts=_D.c.attempts + 1,
                updated_at=now,
            )
            .returning(_D.c.id)
        )
    )
    if not ids:
        return []
    rows = db.execute(
        select(
            _D.c.id,
            _D.c.notification_id,
            _N.c.person_id,
            _D.c.channel,
            _D.c.address,
            _D.c.attempts,
            _N.c.template,
            _N.c.params,
            _N.c.language,
            _N.c.link,
        )
        .join(_N, _N.c.id == _D.c.notification_id)
        .where(_D.c.id.in_(ids))
        .order_by(_D.c.created_at, _D.c.id)
    )
    return [Claimed(**row._mapping) for row in rows]


def deliver_to_inbox(db: Session, *, token: str, items: Sequence[Claimed], now: datetime) -> int:
    """The in-app channel: mark the claimed inbox deliveries sent and put their notifications in the
    inboxes, in one transaction, so an inbox holds a notification exactly when its delivery says sent.
    Returns how many were delivered (deliveries another worker took meanwhile are left to it)."""
    if not items:
        return 0
    done = set(
        db.scalars(
            update(_D)
            .where(_D.c.id.in_([i.id for i in items]), _D.c.claimed_by == token, _D.c.status == "sending")
            .values(
                status="sent",
                is_confirmed=True,
                sent_at=now,
                claimed_by=None,
                last_error=None,
                updated_at=now,
            )
            .returning(_D.c.id)
        )
    )
    entries = [
        {"notification_id": i.notification_id, "person_id": i.person_id, "delivered_at": now, "read_at": None}
        for i in items
        if i.id in done
    ]
    if entries:
        insert = sqlite_insert if db.get_bind().dialect.name == "sqlite" else postgresql_insert
        db.execute(insert(_INBOX).on_conflict_do_nothing(index_elements=["notification_id"]), entries)
    return len(entries)


def begin_handover(
    db: Session, *, token: str, delivery_id: uuid.UUID, now: datetime, settings: MessagingSettings
) -> bool:
    """Record that the worker is about to take the delivery's step of no return; False when the claim
    is no longer the worker's (then it must not take the step). The hand-over gets a fresh lease."""
    result = db.execute(
        update(_D)
        .where(_D.c.id == delivery_id, _D.c.claimed_by == token, _D.c.status == "sending")
        .values(status="handing_over", due_at=now + timedelta(seconds=settings.lease_seconds), updated_at=now)
    )
    return _count(result) == 1


_CONFIRM = (
    update(_D)
    .where(_D.c.id == bindparam("delivery_id"), _D.c.status.in_(("handing_over", "sent")))
    .values(
        status="sent",
        is_confirmed=True,
        sent_at=bindparam("at"),
        provider_ref=bindparam("ref"),
        claimed_by=None,
        last_error=None,
        updated_at=bindparam("at"),
    )
)


def confirm_sent(db: Session, confirmed: Sequence[tuple[uuid.UUID, str, datetime]]) -> None:
    """Record the server's or provider's acceptance of handed-over deliveries, ``(id, reference, when)``
    (also of one settled meanwhile as unconfirmed: the answer did come)."""
    if confirmed:
        db.execute(_CONFIRM, [{"delivery_id": i, "ref": ref, "at": at} for i, ref, at in confirmed])


def record_in_doubt(db: Session, *, token: str, delivery_id: uuid.UUID, reason: str, now: datetime) -> None:
    """The step of no return was taken but its answer never came: sent, unconfirmed, not tried again."""
    db.execute(
        update(_D)
        .where(_D.c.id == delivery_id, _D.c.claimed_by == token, _D.c.status == "handing_over")
        .values(
            status="sent", is_confirmed=False, sent_at=now, claimed_by=None, last_error=reason, updated_at=now
        )
    )


def record_failure(
    db: Session,
    *,
    token: str,
    item: Claimed,
    reason: str,
    permanent: bool,
    now: datetime,
    settings: MessagingSettings,
) -> str:
    """A refusal: back to ``pending`` after the backoff, or ``failed`` when permanent or out of attempts.
    Returns the new status."""
    status = "failed" if permanent or item.attempts >= settings.max_attempts else "pending"
    db.execute(
        update(_D)
        .where(_D.c.id == item.id, _D.c.claimed_by == token, _D.c.status.in_(("sending", "handing_over")))
        .values(
            status=status,
            due_at=now + backoff(item.attempts, settings) if status == "pending" else now,
            claimed_by=None,
            last_error=reason,
            updated_at=now,
        )
    )
    return status


def release(db: Session, *, token: str, ids: Sequence[uuid.UUID], now: datetime) -> int:
    """Give back claimed deliveries the worker will not try (it is stopping): due at once, the claim's
    attempt not counted."""
    if not ids:
        return 0
    return _count(
        db.execute(
            update(_D)
            .where(_D.c.id.in_(ids), _D.c.claimed_by == token, _D.c.status == "sending")
            .values(status="pending", due_at=now, claimed_by=None, attempts=_D.c.attempts - 1, updated_at=now)
        )
    )


def outstanding(db: Session) -> tuple[int, datetime | None]:
    """How many deliveries are not yet sent or failed, and when the next of them is due."""
    count, next_due = db.execute(
        select(func.count(), func.min(_D.c.due_at)).where(_D.c.status.in_(IN_FLIGHT))
    ).one()
    return int(count), next_due  # min() keeps the column's type: an aware datetime


def status_counts(db: Session) -> dict[tuple[str, str], int]:
    """Deliveries per (channel, status), for operators."""
    rows = db.execute(select(_D.c.channel, _D.c.status, func.count()).group_by(_D.c.channel, _D.c.status))
    return {(channel, status): int(n) for channel, status, n in rows}


def _count(result: Any) -> int:
    return int(cast(CursorResult[Any], result).rowcount or 0)
