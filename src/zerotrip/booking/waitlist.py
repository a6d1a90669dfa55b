"""The waitlist of a full slot: joining, leaving, and promotion in order when a seat frees up.

``promote`` runs in the transaction that frees the seat (a cancellation, a reschedule away, a capacity
increase): the oldest waiting entry is claimed with a conditional UPDATE (so two transactions freeing seats
of one slot never promote the same person), judged by the eligibility rules as at booking time, and booked
into the seat; an entry whose person is no longer eligible (or meanwhile booked elsewhere) is closed as
``expired`` with the reason, and the next one is tried. So a freed seat never goes to a bystander while
someone eligible waits, and people are served in the order they joined.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, and_, func, select, update
from sqlalchemy.orm import Session

from zerotrip.audit.actions import record_event
from zerotrip.booking import seats, sources
from zerotrip.booking.errors import SlotFull, WaitlistNotOffered
from zerotrip.booking.models import Appointment, Profile, Slot, WaitlistEntry
from zerotrip.booking.notices import notice_for, tell
from zerotrip.common import clock
from zerotrip.config import BookingSettings
from zerotrip.datahub.ratelimit import SlidingWindowLimiter
from zerotrip.identity.actor import Actor, system
from zerotrip.problems import NotFound, Problem

JOINED = "booking.waitlist.joined"
LEFT = "booking.waitlist.left"
PROMOTED = "booking.waitlist.promoted"
EXPIRED = "booking.waitlist.expired"
BOOKING = system("booking")
_entry = cast(Table, WaitlistEntry.__table__)


@dataclass(frozen=True)
class Joined:
    """A join attempt: the entry and its place in the queue, or why it was refused after the person's
    doses were read (raised by the edge after its commit)."""

    entry: WaitlistEntry | None
    position: int = 0
    refusal: Problem | None = None

    def raise_for_refusal(self) -> WaitlistEntry:
        if self.refusal is not None:
            raise self.refusal
        assert self.entry is not None
        return self.entry


def position_of(db: Session, entry: WaitlistEntry) -> int:
    """1 for the first in line; 0 when the entry no longer waits."""
    if entry.status != "waiting":
        return 0
    ahead = db.scalar(
        select(func.count())
        .select_from(WaitlistEntry)
        .where(
            WaitlistEntry.slot_id == entry.slot_id,
            WaitlistEntry.status == "waiting",
            WaitlistEntry.id < entry.id,
        )
    )
    return int(ahead or 0) + 1


def join_waitlist(
    db: Session,
    *,
    actor: Actor,
    slot_id: int,
    settings: BookingSettings,
    resident_id: str | None = None,
    limiter: SlidingWindowLimiter | None = None,
) -> Joined:
    """Wait for a seat of a full slot, for the citizen or a family member they may book for. The person
    must be eligible now (as for booking) and hold no booking in the series. Raises BookingNotAllowed,
    BookingRateLimited, ProfileRequired, SlotNotFound, SlotNotBookable, WaitlistNotOffered (seats left, no
    waitlist, already waiting); returns NotEligible or AlreadyBooked as the refusal."""
    booker = seats.booker_id(db, actor)
    seats.admit(limiter, booker)
    served = seats.served(db, actor, resident_id)
    place = seats.place_of(db, slot_id)
    seats.check_bookable(place, days_ahead=settings.days_ahead)
    if not place.service.has_waitlist:
        raise WaitlistNotOffered("this service keeps no waitlist")
    if place.slot.booked < place.slot.capacity:
        raise WaitlistNotOffered("the slot has seats left: book one")
    waiting = db.scalar(
        select(WaitlistEntry.id).where(
            WaitlistEntry.slot_id == slot_id,
            WaitlistEntry.person_id == served.person_id,
            WaitlistEntry.status == "waiting",
        )
    )
    if waiting is not None:
        raise WaitlistNotOffered("already waiting for this slot")
    answer, active = seats.judge(
        db,
        system=sources.booking_system(db, settings),
        served=served,
        product=place.product,
        day=place.slot.day,
        on_behalf_of=actor.principal,
    )
    if not answer.allowed:
        return Joined(entry=None, refusal=seats.refusal_of(answer, active))
    now = clock.now()
    entry = WaitlistEntry(
        slot_id=slot_id,
        person_id=served.person_id,
        booked_by_person_id=served.booker_id,
        series=seats.series_of(place.product),
        status="waiting",
        created_at=now,
        updated_at=now,
    )
    db.add(entry)
    db.flush()  # the position counts the entries before this one's id
    record_event(
        db,
        actor=actor.principal,
        action=JOINED,
        subject_type="person",
        subject_id=served.profile.resident_id,
        data={"entry": entry.id, "slot_id": slot_id},
    )
    return Joined(entry=entry, position=position_of(db, entry))


def leave_waitlist(db: Session, *, actor: Actor, entry_id: int) -> WaitlistEntry:
    """Stop waiting. Raises NotFound (not the citizen's entry), WaitlistNotOffered (no longer waiting)."""
    entry = db.get(WaitlistEntry, entry_id)
    if (
        entry is None
        or actor.kind != "citizen"
        or actor.person_id
        not in (
            entry.person_id,
            entry.booked_by_person_id,
        )
    ):
        raise NotFound("no such waitlist entry")
    if entry.status != "waiting":
        raise WaitlistNotOffered(f"the entry is {entry.status}")
    entry.status = "withdrawn"
    entry.updated_at = clock.now()
    record_event(
        db,
        actor=actor.principal,
        action=LEFT,
        subject_type="person",
        subject_id=str(entry.person_id),
        data={"entry": entry.id, "slot_id": entry.slot_id},
    )
    return entry


def promote(db: Session, *, place: seats.Place, settings: BookingSettings) -> list[Appointment]:
    """Book waiting people, oldest first, into the slot's free seats (see the module docstring). Returns
    the appointments made."""
    if not place.service.has_waitlist:
        return []
    made: list[Appointment] = []
    system_actor: Actor | None = None
    while True:
        free = db.scalar(
            select(Slot.capacity - Slot.booked).where(Slot.id == place.slot.id, Slot.status == "open")
        )
        if not free or free <= 0 or place.slot.starts_at <= clock.now():
            return made
        entry = _claim_next(db, place.slot.id)
        if entry is None:
            return made
        profile = db.get(Profile, entry.person_id)
        if profile is None:  # profiles are never deleted; a waiting person had one
            _expire(db, entry, "no profile")
            continue
        if system_actor is None:
            system_actor = sources.booking_system(db, settings)
        served = seats.Served(booker_id=entry.booked_by_person_id, profile=profile)
        answer, _ = seats.judge(
            db,
            system=system_actor,
            served=served,
            product=place.product,
            day=place.slot.day,
            on_behalf_of=f"waitlist:{entry.id}",
        )
        if not answer.allowed:
            _expire(db, entry, answer.reason or "not eligible")
            continue
        appointment = _book(db, entry, served=served, place=place, dose=answer.dose)
        if appointment is not None:
            made.append(appointment)


def _claim_next(db: Session, slot_id: int) -> WaitlistEntry | None:
    """The oldest waiting entry, claimed by moving it to ``promoted`` with a conditional UPDATE: when
    another transaction claimed it first (it waits for that one's commit on PostgreSQL and SQLite holds one
    writer), the next one is tried."""
    for entry_id in db.scalars(
        select(WaitlistEntry.id)
        .where(WaitlistEntry.slot_id == slot_id, WaitlistEntry.status == "waiting")
        .order_by(WaitlistEntry.id)
        .limit(20)
    ).all():
        claimed = db.execute(
            update(_entry)
            .where(and_(_entry.c.id == entry_id, _entry.c.status == "waiting"))
            .values(status="promoted", updated_at=clock.now())
        )
        if claimed.rowcount:  # type: ignore[attr-defined]
            entry = db.get(WaitlistEntry, entry_id)
            assert entry is not None
            db.refresh(entry)
            return entry
    return None


def _expire(db: Session, entry: WaitlistEntry, reason: str) -> None:
    entry.status = "expired"
    entry.note = reason
    entry.updated_at = clock.now()
    record_event(
        db,
        actor=BOOKING.principal,
        action=EXPIRED,
        subject_type="person",
        subject_id=str(entry.person_id),
        data={"entry": entry.id, "slot_id": entry.slot_id, "reason": reason},
    )


def _book(
    db: Session, entry: WaitlistEntry, *, served: seats.Served, place: seats.Place, dose: int
) -> Appointment | None:
    now = clock.now()
    values = seats.appointment_values(served=served, place=place, dose=dose, now=now)
    appointment = seats.insert_appointment(db, values)
    if appointment is None:
        _expire(db, entry, "already holds a booking")
        return None
    if not seats.take_seat(db, place.slot.id):
        # The free seat was counted in this transaction, whose writes hold the slot: it cannot be gone.
        raise SlotFull("the freed seat is gone")  # pragma: no cover
    entry.status = "promoted"
    entry.appointment_id = appointment.id
    entry.updated_at = now
    record_event(
        db,
        actor=BOOKING.principal,
        action=PROMOTED,
        subject_type="person",
        subject_id=appointment.resident_id,
        data={"entry": entry.id, "number": appointment.number, "slot_id": place.slot.id},
    )
    tell(db, notice_for(appointment, place, "promoted"))
    return appointment


def waiting_for(db: Session, person_ids: list[uuid.UUID]) -> list[WaitlistEntry]:
    """The entries still waiting for these people, oldest first."""
    return list(
        db.scalars(
            select(WaitlistEntry)
            .where(WaitlistEntry.person_id.in_(person_ids), WaitlistEntry.status == "waiting")
            .order_by(WaitlistEntry.id)
        )
    )
