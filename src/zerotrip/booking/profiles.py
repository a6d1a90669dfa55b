"""Registration profiles (建档): prefilled from household registration through the datahub gateway, with the
person's consent, plus a contact phone.

A citizen builds their own profile, or one for a family member they may book for (a minor child, a parent
aged 60 or more, as household registration records the tie; the guardian or the child consents for them).
Nothing is read before consent. Building again refreshes the values from the register and the phone.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

from zerotrip.audit.actions import record_event
from zerotrip.booking import seats, sources
from zerotrip.booking.errors import HouseholdRecordMissing
from zerotrip.booking.models import Profile
from zerotrip.common import clock
from zerotrip.config import BookingSettings
from zerotrip.datahub.schemas_sharing import MAX_BATCH
from zerotrip.identity.actor import Actor
from zerotrip.problems import NotAllowed, Problem, ValidationFailed

BUILT = "booking.profile.built"
IMPORTED = "booking.profiles.imported"
PHONE = re.compile(r"^1[3-9]\d{9}$")


@dataclass(frozen=True)
class Built:
    """A profile built, or why not after the register was read (the edge commits the read's audit event,
    then raises)."""

    profile: Profile | None
    refusal: Problem | None = None

    def raise_for_refusal(self) -> Profile:
        if self.refusal is not None:
            raise self.refusal
        assert self.profile is not None
        return self.profile


def build_profile(
    db: Session,
    *,
    actor: Actor,
    settings: BookingSettings,
    phone: str,
    consent: bool,
    resident_id: str | None = None,
) -> Built:
    """Build (or refresh) the profile of the citizen or of the family member ``resident_id``: with
    ``consent``, read their household registration through the gateway as the booking system, and keep
    name, sex, birth date, household number and division with where they came from, and ``phone``.
    Raises BookingNotAllowed, ValidationFailed (no consent, a bad phone), BookingSystemMissing; returns
    HouseholdRecordMissing as the refusal when the register holds nothing for the person."""
    if not consent:
        raise ValidationFailed.field(
            "consent", "the profile is prefilled from household registration only with consent"
        )
    phone = "".join(phone.split())
    if not PHONE.match(phone):
        raise ValidationFailed.field("phone", "a mainland mobile number of 11 digits")
    booker = seats.booker_id(db, actor)
    person_id, key = seats.person_and_key(db, actor, resident_id)
    system = sources.booking_system(db, settings)
    entry = sources.read_household(db, system=system, resident_id=key, on_behalf_of=actor.principal)
    if entry is None:
        return Built(profile=None, refusal=HouseholdRecordMissing())
    now = clock.now()
    profile = db.get(Profile, person_id)
    if profile is None:
        profile = Profile(person_id=person_id, created_by_person_id=booker, created_at=now)
        db.add(profile)
    profile.resident_id = entry.resident_id
    profile.name = entry.name
    profile.sex = entry.sex
    profile.birth_date = entry.birth_date
    profile.household_no = entry.household_no
    profile.division_code = entry.division_code
    profile.phone = phone
    profile.source_org_name = entry.source_org_name
    profile.source_updated_at = entry.source_updated_at
    profile.consented_at = now
    profile.updated_at = now
    record_event(
        db,
        actor=actor.principal,
        action=BUILT,
        subject_type="person",
        subject_id=entry.resident_id,
        data={"by": str(booker), "source": entry.source_org_name, "purpose": sources.PROFILE_PURPOSE},
    )
    return Built(profile=profile)


@dataclass(frozen=True)
class Registration:
    """A person registered in an earlier booking system, with consent given there, to import."""

    person_id: uuid.UUID
    resident_id: str
    phone: str


def import_profiles(
    db: Session, *, actor: Actor, settings: BookingSettings, registrations: Sequence[Registration]
) -> int:
    """Profiles for people registered (with consent) in an earlier booking system, prefilled from household
    registration read through the gateway in batches, and inserted in bulk; for the platform only
    (migrations, the demo, the rush benchmark). People the register does not hold are left out. Returns
    how many were imported. Raises NotAllowed (anyone but the platform), BookingSystemMissing."""
    if actor.kind != "system":
        raise NotAllowed("importing registrations is the platform's")
    system = sources.booking_system(db, settings)
    now = clock.now()
    table = cast(Table, Profile.__table__)
    made = 0
    for start in range(0, len(registrations), MAX_BATCH):
        chunk = registrations[start : start + MAX_BATCH]
        found = sources.read_households(
            db, system=system, resident_ids=[r.resident_id for r in chunk], on_behalf_of=actor.principal
        )
        rows = [
            {
                "person_id": r.person_id,
                "resident_id": entry.resident_id,
                "name": entry.name,
                "sex": entry.sex,
                "birth_date": entry.birth_date,
                "household_no": entry.household_no,
                "division_code": entry.division_code,
                "phone": r.phone,
                "source_org_name": entry.source_org_name,
                "source_updated_at": entry.source_updated_at,
                "consented_at": now,
                "created_by_person_id": r.person_id,
                "created_at": now,
                "updated_at": now,
            }
            for r in chunk
            if (entry := found.get(r.resident_id.upper())) is not None
        ]
        if rows:
            db.execute(insert(table), rows)
        made += len(rows)
    record_event(
        db,
        actor=actor.principal,
        action=IMPORTED,
        subject_type="profiles",
        subject_id="*",
        data={"count": made},
    )
    return made
