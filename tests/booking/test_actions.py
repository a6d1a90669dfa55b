"""Booking, cancelling, rescheduling and the waitlist through the real actions, on a fixed clock."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from zerotrip.audit.models import AuditEvent
from zerotrip.booking import actions, profiles, waitlist
from zerotrip.booking.errors import (
    AlreadyBooked,
    AppointmentClosed,
    BookingNotAllowed,
    BookingRateLimited,
    IdempotencyKeyReused,
    NotEligible,
    ProfileRequired,
    SlotFull,
    SlotNotBookable,
)
from zerotrip.booking.models import Appointment, Profile, Slot
from zerotrip.common import clock
from zerotrip.datahub.ratelimit import SlidingWindowLimiter
from zerotrip.messaging.models_notifications import Delivery, Notification
from zerotrip.problems import ValidationFailed

from .world import NAT, BookingWorld, Citizen, build_profile, slot_of


def book(db: Session, world: BookingWorld, citizen: Citizen, slot: Slot, **kwargs: object) -> Appointment:
    outcome = actions.book_appointment(
        db,
        actor=citizen.actor,
        slot_id=slot.id,
        settings=world.settings.booking,
        **kwargs,  # type: ignore[arg-type]
    )
    db.flush()
    return outcome.raise_for_refusal()


def seats_taken(db: Session, slot: Slot) -> int:
    db.refresh(slot)
    return slot.booked


def test_the_profile_is_prefilled_from_household_registration_with_consent(
    db: Session, world: BookingWorld
) -> None:
    with pytest.raises(ValidationFailed):
        profiles.build_profile(
            db, actor=world.adult.actor, settings=world.settings.booking, phone="13800000000", consent=False
        )
    build_profile(db, world, world.adult)
    profile = db.get_one(Profile, world.adult.person.id)
    assert (profile.name, profile.sex, profile.birth_date) == ("林晓雯", "female", date(1990, 5, 1))
    assert profile.household_no == "330106000001"
    assert profile.source_org_name == "浙江省公安厅"
    # The read is the person's data-use log entry: the booking system, the purpose, on whose behalf.
    read = db.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "datahub.record.read", AuditEvent.subject_id == world.adult.resident_id
        )
    ).one()
    assert read.data["resource"] == "330000-psb.household"
    assert read.data["on_behalf_of"] == world.adult.actor.principal


def test_a_family_member_is_booked_for_only_where_the_household_data_allows(
    db: Session, world: BookingWorld
) -> None:
    build_profile(db, world, world.adult, for_=world.grandpa)  # a parent aged 76
    build_profile(db, world, world.adult, for_=world.child)  # a son aged two
    appointment = book(
        db, world, world.adult, slot_of(db, product=NAT), resident_id=world.grandpa.resident_id
    )
    assert appointment.person_id == world.grandpa.person.id
    assert appointment.booked_by_person_id == world.adult.person.id
    # Not the other way round (a parent of 76 does not book for his 36-year-old daughter), nor strangers.
    with pytest.raises(BookingNotAllowed):
        profiles.build_profile(
            db,
            actor=world.grandpa.actor,
            settings=world.settings.booking,
            phone="13800000000",
            consent=True,
            resident_id=world.adult.resident_id,
        )
    with pytest.raises(BookingNotAllowed):
        book(db, world, world.stranger, slot_of(db, product=NAT), resident_id=world.adult.resident_id)


def test_booking_needs_a_profile(db: Session, world: BookingWorld) -> None:
    with pytest.raises(ProfileRequired):
        book(db, world, world.adult, slot_of(db))


def test_a_booking_takes_a_seat_and_names_the_next_dose(db: Session, world: BookingWorld) -> None:
    build_profile(db, world, world.adult)
    slot = slot_of(db)
    appointment = book(db, world, world.adult, slot)
    assert appointment.status == "booked"
    assert appointment.dose == 1
    assert appointment.series == "vaccine:新冠病毒疫苗"
    assert appointment.number.startswith("YY") and len(appointment.number) == 14
    assert seats_taken(db, slot) == 1
    booked = db.scalars(select(AuditEvent).where(AuditEvent.action == actions.BOOKED)).one()
    assert booked.data["number"] == appointment.number
    notice = db.scalars(select(Notification)).one()
    assert (notice.template, notice.person_id) == ("booking.appointment.booked", world.adult.person.id)
    assert (
        notice.params["number"] == appointment.number
        and notice.link == f"/booking/appointments/{appointment.number}"
    )
    # The inbox always; SMS and e-mail only to addresses the person gave messaging.
    assert {d.channel for d in db.scalars(select(Delivery))} == {"inbox"}


def test_eligibility_refuses_a_child_too_young_with_the_day_it_becomes_possible(
    db: Session, world: BookingWorld
) -> None:
    build_profile(db, world, world.adult, for_=world.child)
    slot = slot_of(db)
    outcome = actions.book_appointment(
        db,
        actor=world.adult.actor,
        slot_id=slot.id,
        settings=world.settings.booking,
        resident_id=world.child.resident_id,
    )
    assert isinstance(outcome.refusal, NotEligible)
    assert outcome.refusal.extensions["reason"] == "too_young"
    assert outcome.refusal.extensions["earliest_on"] == "2027-06-01"  # three years old
    assert seats_taken(db, slot) == 0
    # The doses were read all the same, and that read stays audited.
    db.flush()
    reads = db.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.action == "datahub.record.read", AuditEvent.subject_id == world.child.resident_id)
    )
    assert reads == 2  # the profile's household read and the booking's vaccination read


def test_eligibility_refuses_a_second_dose_too_soon(db: Session, world: BookingWorld) -> None:
    build_profile(db, world, world.second)
    outcome = actions.book_appointment(
        db, actor=world.second.actor, slot_id=slot_of(db).id, settings=world.settings.booking
    )
    assert isinstance(outcome.refusal, NotEligible)
    assert outcome.refusal.extensions["reason"] == "interval_too_short"
    assert outcome.refusal.extensions["earliest_on"] == "2026-12-12"
    assert outcome.refusal.extensions["params"]["dose"] == 2


def test_one_active_booking_per_person_and_series(db: Session, world: BookingWorld) -> None:
    build_profile(db, world, world.adult)
    first = book(db, world, world.adult, slot_of(db))
    outcome = actions.book_appointment(
        db, actor=world.adult.actor, slot_id=slot_of(db, hour=14).id, settings=world.settings.booking
    )
    assert isinstance(outcome.refusal, AlreadyBooked)
    assert outcome.refusal.extensions["reason"] == "dose_already_booked"
    assert outcome.refusal.extensions["number"] == first.number
    # Another kind of appointment is another series.
    assert book(db, world, world.adult, slot_of(db, product=NAT)).series == "product:nat"


def test_a_full_slot_is_refused_before_anything_is_read(db: Session, world: BookingWorld) -> None:
    for citizen in (world.adult, world.stranger, world.grandpa):
        build_profile(db, world, citizen)
    slot = slot_of(db)
    book(db, world, world.adult, slot)
    book(db, world, world.stranger, slot)
    with pytest.raises(SlotFull) as refused:
        book(db, world, world.grandpa, slot)
    assert refused.value.extensions["waitlist"] is True
    assert seats_taken(db, slot) == 2


def test_past_closed_and_far_slots_are_not_bookable(db: Session, world: BookingWorld) -> None:
    build_profile(db, world, world.adult)
    slot = slot_of(db, day=date(2026, 12, 8))
    with clock.frozen(slot.starts_at + timedelta(minutes=1)), pytest.raises(SlotNotBookable):
        book(db, world, world.adult, slot)
    with clock.frozen(slot.starts_at - timedelta(days=20)), pytest.raises(SlotNotBookable):
        book(db, world, world.adult, slot)


def test_a_retried_request_with_the_same_key_returns_the_same_booking(
    db: Session, world: BookingWorld
) -> None:
    build_profile(db, world, world.adult)
    slot = slot_of(db)
    first = actions.book_appointment(
        db, actor=world.adult.actor, slot_id=slot.id, settings=world.settings.booking, idempotency_key="k-1"
    )
    again = actions.book_appointment(
        db, actor=world.adult.actor, slot_id=slot.id, settings=world.settings.booking, idempotency_key="k-1"
    )
    assert again.is_replay and again.raise_for_refusal().number == first.raise_for_refusal().number
    assert seats_taken(db, slot) == 1
    with pytest.raises(IdempotencyKeyReused):
        actions.book_appointment(
            db,
            actor=world.adult.actor,
            slot_id=slot_of(db, hour=14).id,
            settings=world.settings.booking,
            idempotency_key="k-1",
        )


def test_the_rate_limit_counts_attempts_per_person(db: Session, world: BookingWorld) -> None:
    build_profile(db, world, world.adult)
    limiter = SlidingWindowLimiter(2)
    for _ in range(2):
        actions.book_appointment(
            db,
            actor=world.adult.actor,
            slot_id=slot_of(db).id,
            settings=world.settings.booking,
            limiter=limiter,
        )
    with pytest.raises(BookingRateLimited) as limited:
        actions.book_appointment(
            db,
            actor=world.adult.actor,
            slot_id=slot_of(db).id,
            settings=world.settings.booking,
            limiter=limiter,
        )
    assert limited.value.headers()["Retry-After"]


def test_cancelling_frees_the_seat_at_once(db: Session, world: BookingWorld) -> None:
    for citizen in (world.adult, world.stranger, world.grandpa):
        build_profile(db, world, citizen)
    slot = slot_of(db, product=NAT)  # no waitlist
    first = book(db, world, world.adult, slot)
    book(db, world, world.stranger, slot)
    with pytest.raises(SlotFull):
        book(db, world, world.grandpa, slot)
    cancelled = actions.cancel_appointment(
        db,
        actor=world.adult.actor,
        number=first.number.lower(),
        settings=world.settings.booking,
        reason="plans",
    )
    assert (cancelled.status, cancelled.cancelled_by, cancelled.cancel_reason) == (
        "cancelled",
        "person",
        "plans",
    )
    assert seats_taken(db, slot) == 1
    assert book(db, world, world.grandpa, slot).status == "booked"  # the seat is there for the next person
    assert seats_taken(db, slot) == 2
    with pytest.raises(AppointmentClosed):
        actions.cancel_appointment(
            db, actor=world.adult.actor, number=first.number, settings=world.settings.booking
        )
    # The person may book again in the series after cancelling.
    assert book(db, world, world.adult, slot_of(db, product=NAT, hour=14)).status == "booked"


def test_rescheduling_moves_the_one_booking_and_never_leaves_none_or_two(
    db: Session, world: BookingWorld
) -> None:
    for citizen in (world.adult, world.stranger, world.grandpa):
        build_profile(db, world, citizen)
    morning, afternoon = slot_of(db), slot_of(db, hour=14)
    mine = book(db, world, world.adult, morning)
    moved = actions.reschedule_appointment(
        db, actor=world.adult.actor, number=mine.number, slot_id=afternoon.id, settings=world.settings.booking
    ).raise_for_refusal()
    db.flush()
    assert (moved.number, moved.slot_id, moved.rescheduled_count) == (mine.number, afternoon.id, 1)
    assert (seats_taken(db, morning), seats_taken(db, afternoon)) == (0, 1)
    # The new slot fills up; moving back into a full slot changes nothing.
    book(db, world, world.stranger, morning)
    book(db, world, world.grandpa, morning)
    with pytest.raises(SlotFull):
        actions.reschedule_appointment(
            db,
            actor=world.adult.actor,
            number=mine.number,
            slot_id=morning.id,
            settings=world.settings.booking,
        )
    db.refresh(mine)
    assert mine.slot_id == afternoon.id and mine.status == "booked"
    active = db.scalar(
        select(func.count())
        .select_from(Appointment)
        .where(Appointment.person_id == world.adult.person.id, Appointment.status == "booked")
    )
    assert active == 1
    assert (seats_taken(db, morning), seats_taken(db, afternoon)) == (2, 1)


def test_a_waitlist_promotes_in_order_when_a_seat_frees_up(db: Session, world: BookingWorld) -> None:
    for citizen in (world.adult, world.stranger, world.grandpa):
        build_profile(db, world, citizen)
    build_profile(db, world, world.adult, for_=world.child)
    slot = slot_of(db)
    first = book(db, world, world.adult, slot)
    book(db, world, world.stranger, slot)
    grandpa = waitlist.join_waitlist(
        db, actor=world.grandpa.actor, slot_id=slot.id, settings=world.settings.booking
    ).raise_for_refusal()
    db.flush()
    assert waitlist.position_of(db, grandpa) == 1
    # The child is not eligible (too young): told at once, not queued.
    refused = waitlist.join_waitlist(
        db,
        actor=world.adult.actor,
        slot_id=slot.id,
        settings=world.settings.booking,
        resident_id=world.child.resident_id,
    )
    assert isinstance(refused.refusal, NotEligible)
    actions.cancel_appointment(
        db, actor=world.adult.actor, number=first.number, settings=world.settings.booking
    )
    db.flush()
    db.refresh(grandpa)
    assert grandpa.status == "promoted" and grandpa.appointment_id is not None
    promoted = db.get_one(Appointment, grandpa.appointment_id)
    assert (promoted.person_id, promoted.slot_id, promoted.status) == (
        world.grandpa.person.id,
        slot.id,
        "booked",
    )
    assert seats_taken(db, slot) == 2  # the freed seat went to the waitlist, never up for grabs
    told = {(n.template, n.person_id) for n in db.scalars(select(Notification))}
    assert ("booking.appointment.cancelled", world.adult.person.id) in told
    assert ("booking.appointment.promoted", world.grandpa.person.id) in told
