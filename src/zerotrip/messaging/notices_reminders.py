"""Reminders to those who have not read a notice (or not acknowledged it, when it asks for that) a set time
after it was published, repeated every such interval up to ``notices.reminder_max_rounds`` rounds.

A round is one row (``messaging_notice_reminder``) and a mark on the notice, which the inbox shows beside
every notice its reader still owes; whom it concerns is a set difference (the staff the targets reach
less those with a receipt), never a row per recipient written at publishing. Actions add and flush; the
caller (``tasks_notices``) commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from zerotrip.audit.actions import record_event
from zerotrip.config import NoticesSettings
from zerotrip.identity.staff_queries import positions_select
from zerotrip.messaging.models_notices import Notice, NoticeReceipt, NoticeReminder
from zerotrip.messaging.notices_queries import notice_targets
from zerotrip.messaging.rollups import target_clause

REMINDED = "messaging.notice.reminded"


@dataclass(frozen=True)
class ReminderRound:
    notice_id: int
    round: int
    missing: str
    recipients: int
    channel: str


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


def missing_accounts(db: Session, notice: Notice) -> int:
    """How many staff the notice reaches who have not read it (not acknowledged it, when it asks)."""
    query = positions_select()
    c = query.selected_columns
    receipt = [NoticeReceipt.notice_id == notice.id, NoticeReceipt.account_id == c.account_id]
    if notice.requires_ack:
        receipt.append(NoticeReceipt.acked_at.is_not(None))
    owing = (
        query.where(target_clause(c, notice_targets(db, notice.id)), ~exists().where(*receipt))
        .with_only_columns(c.account_id)
        .distinct()
        .subquery()
    )
    return db.scalar(select(func.count()).select_from(owing)) or 0


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
        data={"round": notice.reminder_rounds, "missing": missing, "recipients": owing, "channel": channel},
    )
    return ReminderRound(notice.id, notice.reminder_rounds, missing, owing, channel)


def _next_round_at(notice: Notice) -> datetime:
    assert notice.remind_after_minutes is not None and notice.published_at is not None
    interval = timedelta(minutes=notice.remind_after_minutes)
    return notice.published_at + interval * (notice.reminder_rounds + 1)
