"""Background duties of booking; each run owns its transactions.

- Reminders the day before: every booking for tomorrow (China time) not yet reminded is told, once, from
  ``REMINDER_FROM`` (09:00, so no SMS arrives at night); a booking moved later is reminded again.
- No-shows: a booking whose slot ended ``booking.no_show_after_minutes`` ago without a check-in is marked
  missed (the operator's statistics count it).
- Slots ahead: the templates' slots are generated for every day people may book (``booking.days_ahead``),
  once a day; existing slots and closed days are left alone.

Rows are claimed with ``FOR UPDATE SKIP LOCKED`` in batches, so several workers share the work and each
booking is reminded or marked once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from zerotrip.audit.actions import record_event
from zerotrip.booking import schedule, seats
from zerotrip.booking.models import Appointment, Slot
from zerotrip.booking.notices import notice_for, tell
from zerotrip.common import clock
from zerotrip.config import BookingSettings
from zerotrip.db import transaction
from zerotrip.identity.actor import system

BOOKING = system("booking")
REMINDER_FROM = time(9, 0)
BATCH = 500
NO_SHOW = "booking.appointment.missed"


def send_reminders(db: Session, *, now: datetime | None = None, limit: int = BATCH) -> int:
    """Tell the people booked for tomorrow who have not been reminded (up to ``limit``); returns how many."""
    now = now or clock.now()
    local = now.astimezone(clock.CHINA)
    if local.time() < REMINDER_FROM:
        return 0
    tomorrow = local.date() + timedelta(days=1)
    due = list(
        db.scalars(
            select(Appointment)
            .where(
                Appointment.day == tomorrow, Appointment.status == "booked", Appointment.reminded_at.is_(None)
            )
            .order_by(Appointment.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    for appointment in due:
        place = seats.place_of(db, appointment.slot_id)
        tell(db, notice_for(appointment, place, "reminder"))
        appointment.reminded_at = now
    return len(due)


def mark_no_shows(
    db: Session, *, settings: BookingSettings, now: datetime | None = None, limit: int = BATCH
) -> int:
    """Mark bookings whose slot ended long enough ago without a check-in as missed; returns how many."""
    now = now or clock.now()
    cutoff = now - timedelta(minutes=settings.no_show_after_minutes)
    missed = list(
        db.scalars(
            select(Appointment)
            .join(Slot, Slot.id == Appointment.slot_id)
            .where(Appointment.status == "booked", Slot.ends_at <= cutoff)
            .order_by(Appointment.id)
            .limit(limit)
            .with_for_update(skip_locked=True, of=Appointment)
        )
    )
    for appointment in missed:
        appointment.status = "no_show"
        appointment.updated_at = now
        record_event(
            db,
            actor=BOOKING.principal,
            action=NO_SHOW,
            subject_type="person",
            subject_id=appointment.resident_id,
            data={"number": appointment.number, "slot_id": appointment.slot_id},
        )
    return len(missed)


def extend_slots(db: Session, *, settings: BookingSettings, today: date | None = None) -> int:
    """Generate the templates' slots from today for the days people may book; returns how many were made."""
    first = today or seats.today()
    return schedule.generate_slots(
        db, actor=BOOKING, first_day=first, last_day=first + timedelta(days=settings.days_ahead - 1)
    )


@dataclass
class Duties:
    """The duties of one worker process: ``run`` does a round of each (slots once a day)."""

    session_factory: sessionmaker[Session]
    settings: BookingSettings
    extended_on: date | None = field(default=None)

    def run(self) -> int:
        done = 0
        for work in (send_reminders, lambda db: mark_no_shows(db, settings=self.settings)):
            while True:
                with self.session_factory() as db, transaction(db):
                    count = work(db)
                done += count
                if count < BATCH:
                    break
        today = seats.today()
        if self.extended_on != today:
            with self.session_factory() as db, transaction(db):
                done += extend_slots(db, settings=self.settings, today=today)
            self.extended_on = today
        return done
