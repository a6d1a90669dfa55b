"""Reads for the site: a site's day list for its operators, and a recorded dose."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from zerotrip.booking.errors import NotSiteOperator, SiteNotFound
from zerotrip.booking.models import Administration, Appointment, Profile, Site
from zerotrip.booking.permissions import can_operate_site
from zerotrip.booking.queries import list_slots
from zerotrip.booking.schemas import (
    AdministrationRead,
    DayEntry,
    DayList,
)
from zerotrip.common import clock
from zerotrip.identity import queries as identity_queries
from zerotrip.identity.actor import Actor

# -- at the site ---------------------------------------------------------------------------------------------


def administration_read(db: Session, administration: Administration) -> AdministrationRead:
    site_code = db.scalar(select(Site.code).where(Site.id == administration.site_id))
    number = db.scalar(select(Appointment.number).where(Appointment.id == administration.appointment_id))
    return AdministrationRead(
        appointment_number=number or "",
        resident_id=administration.resident_id,
        product_code=administration.product_code,
        vaccine_kind=administration.vaccine_kind,
        dose=administration.dose,
        lot=administration.lot,
        administered_at=administration.administered_at,
        administered_by=administration.administered_by,
        site_code=site_code or "",
        certificate_number=administration.certificate_number,
    )


def _mask(resident_id: str) -> str:
    return resident_id[:6] + "*" * 8 + resident_id[-4:]


def day_list(db: Session, *, actor: Actor, site_code: str, day: date) -> DayList:
    """A site's slots and bookings of one day (cancelled ones left out), for its operators. Raises
    SiteNotFound, NotSiteOperator."""
    site = db.scalar(select(Site).where(Site.code == site_code))
    if site is None:
        raise SiteNotFound()
    org = identity_queries.get_organisation(db, site.org_id)
    if not can_operate_site(actor, org.path):
        raise NotSiteOperator(f"this needs the site operator role at {org.name}")
    slots = list_slots(db, site_code=site.code, first_day=day, last_day=day)
    starts = {s.id: s.starts_at for s in slots}
    rows = db.execute(
        select(Appointment, Profile.name)
        .join(Profile, Profile.person_id == Appointment.person_id)
        .where(Appointment.site_id == site.id, Appointment.day == day, Appointment.status != "cancelled")
    ).all()
    entries = sorted(
        (
            DayEntry(
                number=a.number,
                status=a.status,
                name=name,
                resident_id_masked=_mask(a.resident_id),
                product_code=a.product_code,
                dose=a.dose,
                starts_at=starts.get(a.slot_id, datetime.min.replace(tzinfo=clock.CHINA)),
                checked_in_at=a.checked_in_at,
                completed_at=a.completed_at,
            )
            for a, name in rows
        ),
        key=lambda e: (e.starts_at, e.name),
    )
    return DayList(site_code=site.code, site_name=site.name, day=day, slots=slots, entries=entries)
