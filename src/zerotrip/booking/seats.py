"""The seat primitives every booking path shares: who is served, what the rules say, and the statements that
take and give back a seat.

Taking a seat is one conditional UPDATE (``booked = booked + 1 WHERE booked < capacity AND open``): the
database decides who gets the last seat, and a slot can never hold more bookings than seats (the check
``ck_booking_slot_seats`` backs it). The appointment row is inserted with ``ON CONFLICT DO NOTHING`` on the
partial unique index of active appointments per person and series, so two concurrent requests of one person
cannot both book; the loser sees that nothing was inserted and is told.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, make_transient_to_detached

from zerotrip.booking import eligibility, precheck, sources
from zerotrip.booking.errors import (
    AlreadyBooked,
    BookingNotAllowed,
    BookingRateLimited,
    NotEligible,
    ProfileRequired,
    SlotNotFound,
)
from zerotrip.booking.models import (
    ACTIVE_STATUSES,
    Appointment,
    IdempotencyKey,
    Profile,
    Service,
    Site,
    Slot,
)
from zerotrip.booking.permissions import may_book_for_relative
from zerotrip.booking.products import Product, get_product
from zerotrip.common import clock
from zerotrip.datahub.cache import CatalogueCache
from zerotrip.datahub.ratelimit import SlidingWindowLimiter
from zerotrip.identity import queries as identity_queries
from zerotrip.identity.actor import Actor
from zerotrip.identity.errors import NotYourRecord, PersonNotFound
from zerotrip.problems import Problem

NUMBER_PREFIX = "YY"  # 预约
# Digits and capitals without 0/O, 1/I/L, which people confuse reading or typing; 31**12 ≈ 8e17 numbers,
# so a collision (refused by the unique constraint) is not worth a lookup on the rush's path.
NUMBER_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
NUMBER_LENGTH = 12
# Reasons of the eligibility rules that mean "you already hold a booking": told as booking/already-booked.
HELD = ("already_booked", "dose_already_booked", "previous_dose_pending")

_appointment = cast(Table, Appointment.__table__)
_slot = cast(Table, Slot.__table__)
_ACTIVE = text("status IN ('booked', 'checked_in')")


def normalise_number(text_: str) -> str:
    """Numbers are shown upper-case; accept what a person typed in lower case or with spaces."""
    return "".join(text_.split()).upper()


def new_number() -> str:
    return NUMBER_PREFIX + "".join(secrets.choice(NUMBER_ALPHABET) for _ in range(NUMBER_LENGTH))


def series_of(product: Product) -> str:
    """What one active booking per person counts in: the vaccine kind (every product of it), or the
    product for an appointment kind."""
    return f"vaccine:{product.vaccine_kind}" if product.vaccine_kind else f"product:{product.code}"


def today() -> date:
    return clock.now_in_china().date()


# -- who is served -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Served:
    """The person an appointment is for, their profile, and who books (themselves or a family member)."""

    booker_id: uuid.UUID
    profile: Profile

    @property
    def person_id(self) -> uuid.UUID:
        return self.profile.person_id


def admit(limiter: SlidingWindowLimiter | None, person_id: uuid.UUID) -> None:
    """Count one booking attempt of the person. Raises BookingRateLimited with when to come back."""
    if limiter is None:
        return
    wait = limiter.hit(str(person_id))
    if wait is not None:
        raise BookingRateLimited(f"try again in {wait} seconds", retry_after=wait)


def booker_id(db: Session, actor: Actor) -> uuid.UUID:
    """The signed-in citizen's person id. Raises BookingNotAllowed for anyone else."""
    if actor.kind != "citizen" or actor.person_id is None:
        raise BookingNotAllowed("bookings are made by signed-in citizens")
    return actor.person_id


def served(db: Session, actor: Actor, resident_id: str | None) -> Served:
    """The person ``actor`` books for: themselves (no ``resident_id``, or their own), or a family member
    the household data lets them book for. Raises BookingNotAllowed, ProfileRequired."""
    booker = booker_id(db, actor)
    person_id = person_for(db, actor, resident_id)
    profile = db.get(Profile, person_id)
    if profile is None:
        raise ProfileRequired("build the profile (建档) before the first booking")
    return Served(booker_id=booker, profile=profile)


def person_for(db: Session, actor: Actor, resident_id: str | None) -> uuid.UUID:
    """The id of the person ``actor`` acts for (see ``person_and_key``). Raises BookingNotAllowed."""
    if resident_id is None:
        return booker_id(db, actor)
    return person_and_key(db, actor, resident_id)[0]


def person_and_key(db: Session, actor: Actor, resident_id: str | None) -> tuple[uuid.UUID, str]:
    """The id and resident ID of the person ``actor`` acts for: themselves (no ``resident_id``, or their
    own), a minor child, or a parent aged 60 or more, as household registration records the tie. Raises
    BookingNotAllowed."""
    booker_id(db, actor)
    try:
        own = identity_queries.get_own_person(db, actor)
    except (NotYourRecord, PersonNotFound) as exc:
        raise BookingNotAllowed("bookings are made by signed-in citizens") from exc
    wanted = (resident_id or own.resident_id).strip().upper()
    if own.resident_id == wanted:
        return own.id, own.resident_id
    for kind, relative in identity_queries.list_relatives(db, own.id):
        if relative.resident_id == wanted and may_book_for_relative(
            kind, relative_birth_date=relative.birth_date, today=today()
        ):
            return relative.id, relative.resident_id
    # The same answer whether or not the number is anyone's relative: it tells a stranger nothing.
    raise BookingNotAllowed("you may book for yourself, a minor child, or a parent aged 60 or more")


# -- the slot ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    slot: Slot
    service: Service
    site: Site
    product: Product


def place_of(db: Session, slot_id: int) -> Place:
    """A slot with its service, site and product (one statement). Raises SlotNotFound."""
    row = db.execute(
        select(Slot, Service, Site)
        .join(Service, Service.id == Slot.service_id)
        .join(Site, Site.id == Slot.site_id)
        .where(Slot.id == slot_id)
    ).first()
    if row is None:
        raise SlotNotFound()
    slot, service, site = row
    return Place(slot=slot, service=service, site=site, product=get_product(service.product_code))


def check_bookable(place: Place, *, days_ahead: int, now: datetime | None = None) -> None:
    """Raises SlotNotBookable unless the slot is open, at an active site and service, not yet started, and
    within ``days_ahead`` days (today counts)."""
    precheck.check_open(state_of(place), days_ahead=days_ahead, now=now)


def state_of(place: Place) -> precheck.SlotState:
    slot = place.slot
    return precheck.SlotState(
        status=slot.status,
        is_active=place.service.is_active and place.site.is_active,
        starts_at=slot.starts_at,
        day=slot.day,
        booked=slot.booked,
        capacity=slot.capacity,
        has_waitlist=place.service.has_waitlist,
    )


# -- the rules -----------------------------------------------------------------------------------------------


_ACTIVE_BOOKINGS = select(
    Appointment.id, Appointment.number, Appointment.product_code, Appointment.dose
).where(Appointment.person_id == bindparam("person_id"), Appointment.status.in_(ACTIVE_STATUSES))


def active_bookings(
    db: Session, person_id: uuid.UUID, *, leaving_out: uuid.UUID | None = None
) -> list[tuple[uuid.UUID, str, str, int]]:
    """The person's active appointments as (id, number, product code, dose)."""
    db.flush()
    rows = db.connection().execute(_ACTIVE_BOOKINGS, {"person_id": person_id})
    return [(i, n, p, d) for i, n, p, d in rows if i != leaving_out]


def dose_records(doses: list[sources.DoseRecord]) -> list[eligibility.DoseRecord]:
    return [
        eligibility.DoseRecord(
            vaccine_kind=d.vaccine_kind, dose=d.dose, given_on=d.vaccinated_on, product=d.product
        )
        for d in doses
    ]


def judge(
    db: Session,
    *,
    system: Actor,
    served: Served,
    product: Product,
    day: date,
    on_behalf_of: str,
    leaving_out: uuid.UUID | None = None,
    catalogue: CatalogueCache | None = None,
) -> tuple[eligibility.Eligibility, list[tuple[uuid.UUID, str, str, int]]]:
    """What the eligibility rules say about booking ``product`` for ``day``: the person's age and sex from
    the profile, their doses read through the gateway (for a vaccine; the read is audited under them), and
    their active bookings (``leaving_out`` the one being moved). Returns the answer and those bookings."""
    active = active_bookings(db, served.person_id, leaving_out=leaving_out)
    records: list[eligibility.DoseRecord] = []
    if product.is_vaccine:
        records = dose_records(
            sources.read_doses(
                db,
                system=system,
                resident_id=served.profile.resident_id,
                on_behalf_of=on_behalf_of,
                catalogue=catalogue,
            )
        )
    profile = served.profile
    person = eligibility.Person(
        birth_date=profile.birth_date, sex="male" if profile.sex == "male" else "female"
    )
    answer = eligibility.check_eligibility(
        person=person,
        product=product,
        dose=eligibility.next_dose(product, records),
        on=day,
        today=today(),
        records=records,
        active=[eligibility.ActiveBooking(product_code=p, dose=d) for _, _, p, d in active],
    )
    return answer, active


def refusal_of(answer: eligibility.Eligibility, active: list[tuple[uuid.UUID, str, str, int]]) -> Problem:
    """The problem that tells a refused person why: an existing booking (with its number), or the rule."""
    assert answer.reason is not None
    params = {k: v for k, v in answer.params.items()}
    detail = answer.message % params if params else answer.message
    extra: dict[str, Any] = {"reason": answer.reason, "params": params}
    if answer.earliest_on is not None:
        extra["earliest_on"] = answer.earliest_on.isoformat()
    if answer.reason in HELD:
        held = active[0][1] if active else None
        return AlreadyBooked(detail, number=held, **extra)
    return NotEligible(detail, reasons=[{"code": answer.reason, "detail": detail}], **extra)


# -- the statements ------------------------------------------------------------------------------------------


def _insert_active(dialect: Any) -> Any:
    return (
        dialect.insert(_appointment)
        .on_conflict_do_nothing(index_elements=["person_id", "series"], index_where=_ACTIVE)
        .returning(_appointment.c.id)
    )


# Built once per dialect: building the statement costs about as much as running it.
_INSERT_ACTIVE = {"postgresql": _insert_active(postgresql), "sqlite": _insert_active(sqlite)}
_INSERT_KEY = insert(cast(Table, IdempotencyKey.__table__))


def insert_appointment(db: Session, values: dict[str, Any]) -> Appointment | None:
    """Insert an active appointment unless the person already holds one in its series (then None, and
    nothing is written). The row comes back as a persistent ORM object without another statement."""
    inserted = db.connection().execute(_INSERT_ACTIVE[db.get_bind().dialect.name], values).first()
    if inserted is None:
        return None
    appointment = Appointment(**values)
    make_transient_to_detached(appointment)
    db.add(appointment)
    return appointment


def keep_key(
    db: Session, *, person_id: uuid.UUID, key: str, digest: str, appointment_id: uuid.UUID, now: datetime
) -> None:
    """Keep a booking request's idempotency key with the appointment it made."""
    db.connection().execute(
        _INSERT_KEY,
        {
            "person_id": person_id,
            "key": key,
            "request_digest": digest,
            "appointment_id": appointment_id,
            "created_at": now,
        },
    )


def appointment_values(
    *, served: Served, place: Place, dose: int, now: datetime, number: str | None = None
) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "number": number or new_number(),
        "slot_id": place.slot.id,
        "service_id": place.service.id,
        "site_id": place.site.id,
        "day": place.slot.day,
        "person_id": served.person_id,
        "booked_by_person_id": served.booker_id,
        "resident_id": served.profile.resident_id,
        "product_code": place.product.code,
        "series": series_of(place.product),
        "dose": dose,
        "status": "booked",
        "qr_token": secrets.token_urlsafe(24),
        "created_at": now,
        "updated_at": now,
        "cancelled_at": None,
        "cancelled_by": None,
        "cancel_reason": None,
        "checked_in_at": None,
        "checked_in_by": None,
        "completed_at": None,
        "reminded_at": None,
        "rescheduled_count": 0,
    }


_TAKE_SEAT = (
    update(_slot)
    .where(
        and_(
            _slot.c.id == bindparam("slot_id"),
            _slot.c.booked < _slot.c.capacity,
            _slot.c.status == "open",
        )
    )
    .values(booked=_slot.c.booked + 1)
)
_RELEASE_SEAT = (
    update(_slot)
    .where(and_(_slot.c.id == bindparam("slot_id"), _slot.c.booked > 0))
    .values(booked=_slot.c.booked - 1)
)


def take_seat(db: Session, slot_id: int) -> bool:
    """Take one seat of an open slot if one is left; False when none is (nothing changed)."""
    return bool(db.connection().execute(_TAKE_SEAT, {"slot_id": slot_id}).rowcount)


def release_seat(db: Session, slot_id: int) -> None:
    """Give a seat back (the appointment holding it has just stopped being active)."""
    db.connection().execute(_RELEASE_SEAT, {"slot_id": slot_id})
