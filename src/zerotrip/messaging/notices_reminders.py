"""Reminders to those who have not read a notice (or not acknowledged it, when it asks for that) a set time
after it was published, repeated every such interval up to ``notices.reminder_max_rounds`` rounds.

A round is one row (``messaging_notice_reminder``) and a mark on the notice, which the inbox shows beside
every notice its reader still owes; whom it concerns is a set difference (the staff the targets reach
less those with a receipt), never a row per recipient written at publishing. For an emergency the round
is also escalated to SMS: each owing staff member linked to a person is handed to citizen notifications
(``notify_many``, the outbox), written in the same transaction as the round. Actions add and flush; the
caller (``tasks_notices``) commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, exists, func, select
from sqlalchemy.orm import Session

from zerotrip.audit.actions import record_event
from zerotrip.config import NoticesSettings
from zerotrip.identity.staff_queries import positions_select
from zerotrip.messaging.models_notices import Notice, NoticeReceipt, NoticeReminder
from zerotrip.messaging.notices_queries import notice_targets
from zerotrip.messaging.notifications import notify_many
from zerotrip.messaging.rollups import target_clause
from zerotrip.messaging.schemas_notifications import NotificationRequest

REMINDED = "messaging.notice.reminded"
REMINDER_TEMPLATE = "messaging.notice.reminder"
ESCALATION_BATCH = 1000


@dataclass(frozen=True)
class ReminderRound:
    notice_id: int
    round: int
    missing: str
    recipients: int
    channel: str
    escalated: int = 0  # reminders handed to citizen notifications for an SMS


def due_notices(db: Session, *, settings: NoticesSettings, now: datetime) -> list[Notice]:
    """Published notices with a reminder time whose next round is due, locked for this run (PostgreSQL
    skips those another run holds)."""
    candidates = db.scalars(
        select(Notice)
        .where(
            Notice.status == "published",
            Notice.remind_after_minutes.is_not(None),
            Notice.reminder_rounds < settings.reminder_max_rounds,
        )
        .order_by(Notice.id)
        .with_for_update(skip_locked=True)
    ).all()
    return [n for n in candidates if _next_round_at(n) <= now]


def _owing(db: Session, notice: Notice) -> Select[Any]:
    """The staff the notice reaches who have not read it (not acknowledged it, when it asks): account and
    linked person, one row each."""
    query = positions_select()
    c = query.selected_columns
    receipt = [NoticeReceipt.notice_id == notice.id, NoticeReceipt.account_id == c.account_id]
    if notice.requires_ack:
        receipt.append(NoticeReceipt.acked_at.is_not(None))
    return (
        query.where(target_clause(c, notice_targets(db, notice.id)), ~exists().where(*receipt))
        .with_only_columns(c.account_id, c.person_id)
        .distinct()
    )


def missing_accounts(db: Session, notice: Notice) -> int:
    """How many staff the notice reaches who have not read it (not acknowledged it, when it asks)."""
    return db.scalar(select(func.count()).select_from(_owing(db, notice).subquery())) or 0


def _escalate(db: Session, notice: Notice, missing: str) -> int:
    """Hand each owing staff member whose account is linked to a person to citizen notifications
    (``messaging.notice.reminder``, a kind sent by SMS unless the person chose otherwise), in batches;
    returns how many. The dedupe key names the notice, the round and the account, so a round retried after
    a crash tells nobody twice. Staff provisioned without a person have no phone the platform knows: the
    inbox reminder is all they get."""
    owing = _owing(db, notice).subquery()
    action = ("确认", "acknowledged") if missing == "unacknowledged" else ("阅读", "read")
    escalated = 0
    batch: list[NotificationRequest] = []
    rows = db.execute(
        select(owing.c.account_id, owing.c.person_id)
        .where(owing.c.person_id.is_not(None))
        .order_by(owing.c.account_id)
    )
    for account_id, person_id in rows:
        batch.append(
            NotificationRequest(
                template=REMINDER_TEMPLATE,
                params={
                    "title": notice.title,
                    "publisher": notice.publisher_org_name,
                    "action": action[0],
                    "action_en": action[1],
                },
                dedupe_key=f"{REMINDER_TEMPLATE}:{notice.id}:{notice.reminder_rounds}:{account_id}",
                person_id=person_id,
                link=f"/staff/notices/{notice.id}",
            )
        )
        if len(batch) == ESCALATION_BATCH:
            escalated += len(notify_many(db, batch))
            batch = []
    if batch:
        escalated += len(notify_many(db, batch))
    return escalated


def remind(db: Session, *, notice: Notice, now: datetime, settings: NoticesSettings) -> ReminderRound | None:
    """Send the next round of reminders for ``notice``: record it and mark the notice, so every reader who
    still owes it sees the reminder in their inbox. Audited. When nobody owes it any more, no round is
    sent and none will be. Returns the round sent, if any."""
    missing = "unacknowledged" if notice.requires_ack else "unread"
    owing = missing_accounts(db, notice)
    if owing == 0:
        notice.reminder_rounds = settings.reminder_max_rounds
        return None
    notice.reminder_rounds += 1
    notice.last_reminded_at = now
    channel = "inbox"
    escalated = 0
    if notice.priority == "emergency":
        escalated = _escalate(db, notice, missing)
        channel = "sms"
    db.add(
        NoticeReminder(
            notice_id=notice.id,
            round=notice.reminder_rounds,
            missing=missing,
            recipients=owing,
            channel=channel,
            sent_at=now,
        )
    )
    record_event(
        db,
        actor="system:reminders",
        action=REMINDED,
        subject_type="notice",
        subject_id=str(notice.id),
        data={
            "round": notice.reminder_rounds,
            "missing": missing,
            "recipients": owing,
            "channel": channel,
            "escalated": escalated,
        },
    )
    return ReminderRound(notice.id, notice.reminder_rounds, missing, owing, channel, escalated)


def _next_round_at(notice: Notice) -> datetime:
    assert notice.remind_after_minutes is not None and notice.published_at is not None
    interval = timedelta(minutes=notice.remind_after_minutes)
    return notice.published_at + interval * (notice.reminder_rounds + 1)
