"""Reads about people for booking: whom a citizen may book for and their profiles, what the eligibility
rules would say, and the record lookup (随身查) of the doses the health department's records hold.
"""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from zerotrip.booking import seats, sources
from zerotrip.booking.models import Appointment, Profile
from zerotrip.booking.permissions import may_book_for_relative
from zerotrip.booking.products import get_product
from zerotrip.booking.queries import appointment_reads
from zerotrip.booking.schemas import (
    DoseRead,
    EligibilityRead,
    PersonChoice,
    ProfileRead,
    RecordLookup,
)
from zerotrip.config import BookingSettings
from zerotrip.datahub.cache import CatalogueCache
from zerotrip.identity import queries as identity_queries
from zerotrip.identity.actor import Actor
from zerotrip.problems import ValidationFailed

# -- people and profiles -------------------------------------------------------------------------------------


def profile_read(profile: Profile, relation: str = "self") -> ProfileRead:
    return ProfileRead(
        resident_id=profile.resident_id,
        name=profile.name,
        sex="male" if profile.sex == "male" else "female",
        birth_date=profile.birth_date,
        household_no=profile.household_no,
        division_code=profile.division_code,
        phone=profile.phone,
        source_org_name=profile.source_org_name,
        source_updated_at=profile.source_updated_at,
        updated_at=profile.updated_at,
        relation=relation,
    )


def list_people(db: Session, *, actor: Actor) -> list[PersonChoice]:
    """The citizen and the family members they may book for, each with their profile if built."""
    seats.booker_id(db, actor)
    own = identity_queries.get_own_person(db, actor)
    today = seats.today()
    people: list[tuple[uuid.UUID, str, str, str]] = [(own.id, own.resident_id, own.name, "self")]
    for kind, relative in identity_queries.list_relatives(db, own.id):
        if may_book_for_relative(kind, relative_birth_date=relative.birth_date, today=today):
            people.append((relative.id, relative.resident_id, relative.name, kind))
    profiles = {
        p.person_id: p
        for p in db.scalars(select(Profile).where(Profile.person_id.in_([p[0] for p in people])))
    }
    return [
        PersonChoice(
            resident_id=key,
            name=name,
            relation=relation,
            profile=profile_read(profiles[pid], relation) if pid in profiles else None,
        )
        for pid, key, name, relation in people
    ]


def preview_eligibility(
    db: Session,
    *,
    actor: Actor,
    product_code: str,
    day: date,
    settings: BookingSettings,
    resident_id: str | None = None,
    catalogue: CatalogueCache | None = None,
) -> EligibilityRead:
    """What the rules would say about booking ``product_code`` for ``day`` (reads the person's doses
    through the gateway, audited). Raises BookingNotAllowed, ProfileRequired, BookingSystemMissing,
    ValidationFailed (an unknown product)."""
    try:
        product = get_product(product_code)
    except KeyError as exc:
        raise ValidationFailed.field("product", "not a product of the catalogue") from exc
    served = seats.served(db, actor, resident_id)
    answer, _ = seats.judge(
        db,
        system=sources.booking_system(db, settings),
        served=served,
        product=product,
        day=day,
        on_behalf_of=actor.principal,
        catalogue=catalogue,
    )
    params = {k: v for k, v in answer.params.items()}
    return EligibilityRead(
        product_code=product.code,
        day=day,
        dose=answer.dose,
        allowed=answer.allowed,
        reason=answer.reason,
        message=(answer.message % params) if params else answer.message,
        params=params,
        earliest_on=answer.earliest_on,
    )


def lookup_records(
    db: Session, *, actor: Actor, settings: BookingSettings, resident_id: str | None = None
) -> RecordLookup:
    """随身查: the person's doses as the health department's records hold them now (read through the
    gateway for the person, audited), and their bookings. Raises BookingNotAllowed, BookingSystemMissing."""
    person_id, key = seats.person_and_key(db, actor, resident_id)
    doses = sources.read_doses(
        db, system=sources.booking_system(db, settings), resident_id=key, on_behalf_of=actor.principal
    )
    name = db.scalar(select(Profile.name).where(Profile.person_id == person_id))
    if name is None:
        name = next((p.name for p in list_people(db, actor=actor) if p.resident_id == key), "")
    bookings = list(
        db.scalars(
            select(Appointment)
            .where(Appointment.person_id == person_id)
            .order_by(Appointment.day.desc())
            .limit(50)
        )
    )
    return RecordLookup(
        resident_id=key,
        name=name,
        source=doses[0].source if doses else "",
        doses=[
            DoseRead(
                vaccine_kind=d.vaccine_kind,
                product=d.product,
                manufacturer=d.manufacturer,
                dose=d.dose,
                vaccinated_on=d.vaccinated_on,
                batch_no=d.batch_no,
                site=d.site,
                version=d.version,
                updated_at=d.updated_at,
            )
            for d in doses
        ],
        bookings=appointment_reads(db, bookings, with_qr=True),
    )
