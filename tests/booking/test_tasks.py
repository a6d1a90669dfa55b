"""Booking's duties on a fixed clock: the reminder the day before (once, not at night, again after a move),
no-shows, and slots generated ahead."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from zerotrip.booking import actions, oversight, tasks
from zerotrip.booking.models import Appointment, Slot
from zerotrip.common import clock
from zerotrip.messaging.models_notifications import Notification

from .world import TOMORROW, BookingWorld, build_profile, slot_of


def reminders(db: Session) -> list[Notification]:
    return [n for n in db.scalars(select(Notification)) if n.template == "booking.appointment.reminder"]


def test_the_reminder_goes_out_the_day_before_once_and_again_after_a_move(
    db: Session, world: BookingWorld
) -> None:
    build_profile(db, world, world.adult)
    booked = actions.book_appointment(
        db, actor=world.adult.actor, slot_id=slot_of(db).id, settings=world.settings.booking
    ).raise_for_refusal()
    db.flush()
    night = datetime(2026, 11, 30, 22, 0, tzinfo=UTC)  # 06:00 in China on 1 December, the day before
    assert tasks.send_reminders(db, now=night) == 0
    morning = datetime(2026, 12, 1, 1, 30, tzinfo=UTC)  # 09:30 in China
    assert tasks.send_reminders(db, now=morning) == 1
    assert tasks.send_reminders(db, now=morning + timedelta(hours=1)) == 0
    (told,) = reminders(db)
    assert told.person_id == world.adult.person.id and told.params["number"] == booked.number
    assert told.params["starts_at"] == "2026-12-02 09:00"
    # Moved to the day after: reminded again the day before that one, not on the way.
    actions.reschedule_appointment(
        db,
        actor=world.adult.actor,
        number=booked.number,
        slot_id=slot_of(db, day=TOMORROW + timedelta(days=1)).id,
        settings=world.settings.booking,
    ).raise_for_refusal()
    db.flush()
    assert tasks.send_reminders(db, now=morning) == 0
    assert tasks.send_reminders(db, now=morning + timedelta(days=1)) == 1
    assert len(reminders(db)) == 2


def test_a_booking_never_checked_in_becomes_a_no_show(db: Session, world: BookingWorld) -> None:
    build_profile(db, world, world.adult)
    slot = slot_of(db)
    actions.book_appointment(db, actor=world.adult.actor, slot_id=slot.id, settings=world.settings.booking)
    db.flush()
    settings = world.settings.booking
    assert tasks.mark_no_shows(db, settings=settings, now=slot.ends_at) == 0
    later = slot.ends_at + timedelta(minutes=settings.no_show_after_minutes)
    assert tasks.mark_no_shows(db, settings=settings, now=later) == 1
    assert db.scalars(select(Appointment.status)).one() == "no_show"
    found = oversight.figures(
        db, actor=world.admin, first_day=TOMORROW, last_day=TOMORROW, today=TOMORROW + timedelta(days=1)
    )
    counties = {c.division_code: (c.past_bookings, c.no_shows) for c in found.counties}
    assert counties == {"330106": (1, 1), "330108": (0, 0)}


def test_slots_are_generated_for_the_days_people_may_book(db: Session, world: BookingWorld) -> None:
    before = db.scalar(select(func.count()).select_from(Slot))
    made = tasks.extend_slots(db, settings=world.settings.booking, today=date(2026, 12, 1))
    # 1 to 14 December; 2 to 8 December existed: 7 new days at two sites, two products, two slots a day.
    assert made == 7 * 2 * 2 * 2
    assert tasks.extend_slots(db, settings=world.settings.booking, today=date(2026, 12, 1)) == 0
    assert db.scalar(select(func.count()).select_from(Slot)) == before + made
    with clock.frozen(datetime(2026, 12, 14, 12, 0, tzinfo=UTC)):
        assert tasks.extend_slots(db, settings=world.settings.booking) == 13 * 2 * 2 * 2
