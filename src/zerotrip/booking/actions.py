"""Booking, cancelling, rescheduling and the waitlist: what a resident does, never more seats than a slot has.

The flow of a booking (``book_appointment``), for a signed-in citizen, for themselves or a family member:

1. The per-person rate limit; a retried request with an idempotency key the person used before returns
   that booking (``Outcome.is_replay``).
2. The slot must be open, not started and within the days that may be booked ahead; a full slot is
   refused at once (``booking/slot-full``, saying whether its waitlist is open), before anything is read.
3. The eligibility rules (``eligibility.py``) on the profile's age and sex, the person's doses read through
   the datahub gateway (audited under the person), and their active bookings: the dose is the next one.
   A refusal says why (``booking/not-eligible`` with the reason code, or ``booking/already-booked``).
4. Inside a savepoint: the appointment is inserted unless the person already holds an active one in the
   series (the partial unique index decides between concurrent requests), the idempotency key is kept,
   the audit event and the confirmation notice are written, and last the seat is taken with one
   conditional UPDATE, so the slot's row is locked only from there to the commit. If any step refuses,
   the savepoint is rolled back and nothing of the booking remains, while the gateway's read, which did
   happen, stays audited: refusals after the read come back in the ``Outcome`` for the edge to raise
   after its commit (``Outcome.raise_for_refusal``).

Cancelling gives the seat back in the same transaction, and if the slot has a waitlist the oldest eligible
waiting person is booked into it there and then (``waitlist.promote``), so a freed seat is never up for
grabs while someone waits. Rescheduling moves the one appointment row to the new slot in one transaction:
it takes the new seat and gives the old one back (both UPDATEs in slot-id order, so two people swapping
slots cannot deadlock); if the new slot is full nothing changes, so the person always holds exactly one
booking. Actions add, change and flush; the caller commits.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from zerotrip.audit.actions import record_event, record_events
from zerotrip.booking import seats, sources, waitlist
from zerotrip.booking.errors import (
    AlreadyBooked,
    AppointmentClosed,
    AppointmentNotFound,
    IdempotencyKeyReused,
    SlotFull,
)
from zerotrip.booking.models import ACTIVE_STATUSES, Appointment, IdempotencyKey
from zerotrip.booking.notices import notice_for, tell
from zerotrip.booking.products import get_product
from zerotrip.common import clock
from zerotrip.config import BookingSettings
from zerotrip.datahub.cache import CatalogueCache
from zerotrip.datahub.ratelimit import SlidingWindowLimiter
from zerotrip.identity.actor import Actor
from zerotrip.problems import Problem, ValidationFailed

BOOKED = "booking.appointment.booked"
CANCELLED = "booking.appointment.cancelled"
RESCHEDULED = "booking.appointment.rescheduled"
MAX_KEY = 64


@dataclass(frozen=True)
class Outcome:
    """What a booking attempt came to: the appointment (new, or the one an earlier request with the same
    idempotency key made), or why it was refused after personal data was read (the edge commits the read's
    audit event, then raises)."""

    appointment: Appointment | None
    is_replay: bool = False
    refusal: Problem | None = None
    # A new booking's slot, site and product, and the name of the person it is for: the answer is built
    # from them and the appointment without reading anything again.
    place: seats.Place | None = None
    person_name: str | None = None

    def raise_for_refusal(self) -> Appointment:
        if self.refusal is not None:
            raise self.refusal
        assert self.appointment is not None
        return self.appointment


class _Refused(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.detail)
        self.problem = problem


def book_appointment(
    db: Session,
    *,
    actor: Actor,
    slot_id: int,
    settings: BookingSettings,
    resident_id: str | None = None,
    idempotency_key: str | None = None,
    limiter: SlidingWindowLimiter | None = None,
    catalogue: CatalogueCache | None = None,
    systems: sources.SystemCache | None = None,
) -> Outcome:
    """Book one seat of ``slot_id`` for the signed-in citizen or the family member ``resident_id``; the flow
    is in the module docstring. Raises (before reading personal data) BookingNotAllowed, BookingRateLimited,
    ValidationFailed (a bad key), IdempotencyKeyReused, ProfileRequired, SlotNotFound, SlotNotBookable,
    SlotFull, BookingSystemMissing; returns NotEligible, AlreadyBooked or SlotFull as the outcome's refusal
    when they are found after the read."""
    booker = seats.booker_id(db, actor)
    seats.admit(limiter, booker)
    key = _checked_key(idempotency_key)
    served = seats.served(db, actor, resident_id)
    digest = hashlib.sha256(f"{slot_id}:{served.profile.resident_id}".encode()).hexdigest()
    if key is not None:
        replay = _replay(db, booker, key, digest)
        if replay is not None:
            return Outcome(appointment=replay, is_replay=True)
    place = seats.place_of(db, slot_id)
    seats.check_bookable(place, days_ahead=settings.days_ahead)
    if place.slot.booked >= place.slot.capacity:
        raise SlotFull("every seat of this slot is taken", waitlist=place.service.has_waitlist)
    system = sources.system_of(db, settings, systems)
    answer, active = seats.judge(
        db,
        system=system,
        served=served,
        product=place.product,
        day=place.slot.day,
        on_behalf_of=actor.principal,
        catalogue=catalogue,
    )
    if not answer.allowed:
        return Outcome(appointment=None, refusal=seats.refusal_of(answer, active))
    now = clock.now()
    values = seats.appointment_values(served=served, place=place, dose=answer.dose, now=now)
    try:
        with db.begin_nested():
            appointment = seats.insert_appointment(db, values)
            if appointment is None:
                # Another request of the person's got there first: the same request retried, or another.
                if key is not None:
                    replay = _replay(db, booker, key, digest)
                    if replay is not None:
                        raise _Replayed(replay)
                held = seats.active_bookings(db, served.person_id)
                raise _Refused(
                    AlreadyBooked("you already hold a booking for this", number=held[0][1] if held else None)
                )
            if key is not None:
                seats.keep_key(
                    db, person_id=booker, key=key, digest=digest, appointment_id=appointment.id, now=now
                )
            _audit_booked(db, actor, appointment, place)
            tell(db, notice_for(appointment, place, "booked"))
            db.flush()  # everything before the seat, so the slot's row is locked as briefly as can be
            if not seats.take_seat(db, place.slot.id):
                raise _Refused(SlotFull("the last seat was just taken", waitlist=place.service.has_waitlist))
    except _Refused as refused:
        return Outcome(appointment=None, refusal=refused.problem)
    except _Replayed as replayed:
        return Outcome(appointment=replayed.appointment, is_replay=True)
    db.expire(place.slot, ["booked"])
    return Outcome(appointment=appointment, place=place, person_name=served.profile.name)


class _Replayed(Exception):
    def __init__(self, appointment: Appointment) -> None:
        super().__init__(appointment.number)
        self.appointment = appointment


def _checked_key(key: str | None) -> str | None:
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > MAX_KEY or not key.isprintable():
        raise ValidationFailed.field("idempotency_key", f"1 to {MAX_KEY} printable characters")
    return key


_KEY = select(IdempotencyKey.request_digest, IdempotencyKey.appointment_id).where(
    IdempotencyKey.person_id == bindparam("person_id"), IdempotencyKey.key == bindparam("key")
)


def _replay(db: Session, booker: uuid.UUID, key: str, digest: str) -> Appointment | None:
    db.flush()
    row = db.connection().execute(_KEY, {"person_id": booker, "key": key}).first()
    if row is None:
        return None
    if row[0] != digest:
        raise IdempotencyKeyReused("send a new idempotency key for a different booking")
    return db.get_one(Appointment, row[1])


def _audit_booked(db: Session, actor: Actor, appointment: Appointment, place: seats.Place) -> None:
    data = {
        "number": appointment.number,
        "site": place.site.code,
        "product": appointment.product_code,
        "dose": appointment.dose,
        "slot_id": place.slot.id,
        "starts_at": place.slot.starts_at.isoformat(),
        "booked_by": str(appointment.booked_by_person_id),
    }
    # One row with a Core INSERT (as record_event would write it), no ORM object to flush.
    record_events(
        db, actor=actor.principal, action=BOOKED, events=[("person", appointment.resident_id, data)]
    )


# -- cancelling ----------------------------------------------------------------------------------------------


def own_appointment(db: Session, actor: Actor, number: str, *, lock: bool = False) -> Appointment:
    """An appointment the citizen booked or is booked for. Raises AppointmentNotFound."""
    query = select(Appointment).where(Appointment.number == seats.normalise_number(number))
    appointment = db.scalar(query.with_for_update() if lock else query)
    if (
        appointment is None
        or actor.kind != "citizen"
        or actor.person_id not in (appointment.person_id, appointment.booked_by_person_id)
    ):
        raise AppointmentNotFound()
    return appointment


def cancel_appointment(
    db: Session, *, actor: Actor, number: str, settings: BookingSettings, reason: str = ""
) -> Appointment:
    """The person (or whoever booked for them) cancels a booking before its slot starts. The seat is given
    back at once, to the slot's waitlist first. Raises AppointmentNotFound, AppointmentClosed."""
    appointment = own_appointment(db, actor, number, lock=True)
    place = seats.place_of(db, appointment.slot_id)
    if appointment.status != "booked":
        raise AppointmentClosed(f"the booking is {appointment.status}")
    if place.slot.starts_at <= clock.now():
        raise AppointmentClosed("the slot has started; the site marks a missed booking")
    end_appointment(db, appointment, by="person", reason=reason.strip() or None, actor=actor)
    tell(db, notice_for(appointment, place, "cancelled"))
    waitlist.promote(db, place=place, settings=settings)
    return appointment


def end_appointment(
    db: Session, appointment: Appointment, *, by: str, reason: str | None, actor: Actor
) -> None:
    """Cancel an active appointment and give its seat back (no notice: the caller tells)."""
    was = appointment.status
    now = clock.now()
    appointment.status = "cancelled"
    appointment.cancelled_at = now
    appointment.cancelled_by = by
    appointment.cancel_reason = reason
    appointment.updated_at = now
    db.flush()  # the row leaves the partial unique index before anything is booked in its place
    if was in ACTIVE_STATUSES:
        seats.release_seat(db, appointment.slot_id)
    record_event(
        db,
        actor=actor.principal,
        action=CANCELLED,
        subject_type="person",
        subject_id=appointment.resident_id,
        data={"number": appointment.number, "by": by, "reason": reason, "slot_id": appointment.slot_id},
    )


# -- rescheduling --------------------------------------------------------------------------------------------


def reschedule_appointment(
    db: Session,
    *,
    actor: Actor,
    number: str,
    slot_id: int,
    settings: BookingSettings,
    limiter: SlidingWindowLimiter | None = None,
    catalogue: CatalogueCache | None = None,
) -> Outcome:
    """Move a booking to another slot of the same product (at any site). The new seat is taken and the old
    one given back in this transaction, so the person holds exactly one booking whatever happens: when the
    new slot is full, nothing changes. The freed seat goes to the old slot's waitlist first. Raises
    AppointmentNotFound, AppointmentClosed, BookingRateLimited, SlotNotFound, SlotNotBookable, SlotFull,
    ValidationFailed (another product, the same slot); returns NotEligible (the new day breaks an interval
    or age rule) as the outcome's refusal."""
    booker = seats.booker_id(db, actor)
    seats.admit(limiter, booker)
    appointment = own_appointment(db, actor, number, lock=True)
    if appointment.status != "booked":
        raise AppointmentClosed(f"the booking is {appointment.status}")
    old = seats.place_of(db, appointment.slot_id)
    if old.slot.starts_at <= clock.now():
        raise AppointmentClosed("the slot has started")
    if slot_id == appointment.slot_id:
        raise ValidationFailed.field("slot_id", "the booking is already in this slot")
    new = seats.place_of(db, slot_id)
    if new.product.code != appointment.product_code:
        raise ValidationFailed.field("slot_id", "move a booking to a slot of the same vaccine or service")
    seats.check_bookable(new, days_ahead=settings.days_ahead)
    if new.slot.booked >= new.slot.capacity:
        raise SlotFull("every seat of the new slot is taken", waitlist=new.service.has_waitlist)
    profile = seats.served(db, actor, appointment.resident_id).profile
    served = seats.Served(booker_id=appointment.booked_by_person_id, profile=profile)
    answer, active = seats.judge(
        db,
        system=sources.booking_system(db, settings),
        served=served,
        product=get_product(appointment.product_code),
        day=new.slot.day,
        on_behalf_of=actor.principal,
        leaving_out=appointment.id,
        catalogue=catalogue,
    )
    if not answer.allowed:
        return Outcome(appointment=None, refusal=seats.refusal_of(answer, active))
    try:
        with db.begin_nested():
            _move(db, appointment, old=old, new=new, now=clock.now())
            record_event(
                db,
                actor=actor.principal,
                action=RESCHEDULED,
                subject_type="person",
                subject_id=appointment.resident_id,
                data={"number": appointment.number, "from_slot_id": old.slot.id, "to_slot_id": new.slot.id},
            )
            tell(db, notice_for(appointment, new, "rescheduled"))
            db.flush()
            if not _swap_seats(db, take=new.slot.id, give=old.slot.id):
                raise _Refused(
                    SlotFull(
                        "the last seat of the new slot was just taken", waitlist=new.service.has_waitlist
                    )
                )
    except _Refused as refused:
        db.refresh(appointment)
        return Outcome(appointment=None, refusal=refused.problem)
    waitlist.promote(db, place=old, settings=settings)
    return Outcome(appointment=appointment)


def _move(
    db: Session, appointment: Appointment, *, old: seats.Place, new: seats.Place, now: datetime
) -> None:
    appointment.slot_id = new.slot.id
    appointment.service_id = new.service.id
    appointment.site_id = new.site.id
    appointment.day = new.slot.day
    appointment.rescheduled_count += 1
    appointment.reminded_at = None
    appointment.updated_at = now


def _swap_seats(db: Session, *, take: int, give: int) -> bool:
    """Take a seat of ``take`` and give one back to ``give``, locking the two rows in id order (a person
    moving A→B and another B→A at once wait for each other in one direction, never deadlock). False, with
    nothing changed that the caller's savepoint does not roll back, when ``take`` is full."""
    if take < give:
        if not seats.take_seat(db, take):
            return False
        seats.release_seat(db, give)
        return True
    seats.release_seat(db, give)
    return seats.take_seat(db, take)
