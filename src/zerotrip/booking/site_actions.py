"""At the site: checking people in by their booking QR, and recording the vaccination given.

A site operator (role ``site_operator`` over the department that runs the site) checks in a booking of
today at one of their sites by scanning its QR (``qr_payload``), and records the dose given to a checked-in
person: product, lot, dose, time and operator. Recording pushes the dose to the health department's
vaccination records through datahub's aggregation, as the health commission's system (a new record, or a
new version of the person's record for that dose), so the record lookup (随身查) shows it at once; for a
COVID-19 dose the person's vaccination certificate is issued anew in the same transaction.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from zerotrip.audit.actions import record_event
from zerotrip.booking import records, seats, sources
from zerotrip.booking.errors import AppointmentNotFound, CheckInRefused, NotSiteOperator
from zerotrip.booking.models import Administration, Appointment, Profile, Site
from zerotrip.booking.notices import notice_for, tell
from zerotrip.booking.permissions import can_operate_site, operated_paths
from zerotrip.booking.products import COVID, get_product
from zerotrip.common import clock
from zerotrip.config import Settings
from zerotrip.identity import queries as identity_queries
from zerotrip.identity.actor import Actor
from zerotrip.keys import KeyStore
from zerotrip.problems import ValidationFailed

QR_PREFIX = "zerotrip:booking:"
CHECKED_IN = "booking.appointment.checked_in"
RECORDED = "booking.vaccination.recorded"


def qr_payload(appointment: Appointment) -> str:
    """What the booking's QR code encodes: the prefix and the secret check-in token."""
    return QR_PREFIX + appointment.qr_token


def _token(scanned: str) -> str:
    scanned = scanned.strip()
    return scanned.removeprefix(QR_PREFIX)


def _operated_site(db: Session, actor: Actor, site_id: int) -> Site:
    """The site, if the actor operates it. Raises NotSiteOperator (no site operator role at all),
    CheckInRefused (a site of someone else's)."""
    if not operated_paths(actor):
        raise NotSiteOperator()
    site = db.get_one(Site, site_id)
    org = identity_queries.get_organisation(db, site.org_id)
    if not can_operate_site(actor, org.path):
        raise CheckInRefused(f"this booking is at {site.name}, a site you do not operate")
    return site


def check_in(db: Session, *, actor: Actor, scanned: str) -> Appointment:
    """Check in the booking whose QR was scanned: it must be for today (China time), at a site the
    operator serves, and booked (not cancelled, missed or already checked in). Raises NotSiteOperator,
    AppointmentNotFound, CheckInRefused."""
    if not operated_paths(actor):
        raise NotSiteOperator()
    appointment = db.scalar(
        select(Appointment).where(Appointment.qr_token == _token(scanned)).with_for_update()
    )
    if appointment is None:
        raise AppointmentNotFound("no booking has this QR code")
    site = _operated_site(db, actor, appointment.site_id)
    if appointment.status != "booked":
        raise CheckInRefused(f"the booking is {appointment.status.replace('_', ' ')}")
    today = seats.today()
    if appointment.day != today:
        raise CheckInRefused(f"the booking is for {appointment.day.isoformat()}, not today")
    now = clock.now()
    appointment.status = "checked_in"
    appointment.checked_in_at = now
    appointment.checked_in_by = actor.principal
    appointment.updated_at = now
    record_event(
        db,
        actor=actor.principal,
        action=CHECKED_IN,
        subject_type="person",
        subject_id=appointment.resident_id,
        data={"number": appointment.number, "site": site.code},
    )
    return appointment


def record_vaccination(
    db: Session,
    *,
    actor: Actor,
    number: str,
    lot: str,
    keys: KeyStore,
    settings: Settings,
    administered_at: datetime | None = None,
    adverse_reaction: str = "无",
) -> Administration:
    """Record the dose given to the checked-in person of booking ``number``; see the module docstring.
    Raises NotSiteOperator, AppointmentNotFound, CheckInRefused (not checked in, not a vaccination),
    ValidationFailed (a time in the future), RecordRefused, BookingSystemMissing."""
    if not operated_paths(actor):
        raise NotSiteOperator()
    appointment = db.scalar(
        select(Appointment).where(Appointment.number == seats.normalise_number(number)).with_for_update()
    )
    if appointment is None:
        raise AppointmentNotFound()
    site = _operated_site(db, actor, appointment.site_id)
    if appointment.status != "checked_in":
        raise CheckInRefused(
            f"check the person in first (the booking is {appointment.status.replace('_', ' ')})"
        )
    product = get_product(appointment.product_code)
    if product.vaccine_kind is None or product.manufacturer is None:
        raise CheckInRefused("this booking is not for a vaccination")
    now = clock.now()
    given = administered_at or now
    if given.tzinfo is None or given > now:
        raise ValidationFailed.field("administered_at", "a time with its zone, not in the future")
    profile = db.get_one(Profile, appointment.person_id)
    system = sources.booking_system(db, settings.booking)
    sources.push_dose(
        db,
        system=system,
        row={
            "resident_id": appointment.resident_id,
            "name": profile.name,
            "vaccine_kind": product.vaccine_kind,
            "product": product.name,
            "manufacturer": product.manufacturer.name,
            "dose": str(appointment.dose),
            "vaccinated_on": given.astimezone(clock.CHINA).date().isoformat(),
            "batch_no": lot,
            "site": site.name,
            "site_division": site.division_code,
            "adverse_reaction": adverse_reaction,
        },
    )
    administration = Administration(
        appointment_id=appointment.id,
        site_id=site.id,
        person_id=appointment.person_id,
        resident_id=appointment.resident_id,
        product_code=product.code,
        vaccine_kind=product.vaccine_kind,
        dose=appointment.dose,
        lot=lot,
        administered_at=given,
        administered_by=actor.principal,
        division_code=site.division_code,
        created_at=now,
    )
    if product.vaccine_kind == COVID:
        doses = sources.read_doses(
            db, system=system, resident_id=appointment.resident_id, on_behalf_of=appointment.number
        )
        issued = records.issue_covid_certificate(
            db,
            resident_id=appointment.resident_id,
            doses=doses,
            keys=keys,
            settings=settings,
            source_ref=appointment.number,
        )
        administration.certificate_number = issued.number
    db.add(administration)
    appointment.status = "completed"
    appointment.completed_at = now
    appointment.updated_at = now
    record_event(
        db,
        actor=actor.principal,
        action=RECORDED,
        subject_type="person",
        subject_id=appointment.resident_id,
        data={
            "number": appointment.number,
            "site": site.code,
            "product": product.code,
            "dose": appointment.dose,
            "lot": lot,
            "administered_at": given.isoformat(),
            "certificate": administration.certificate_number,
        },
    )
    place = seats.place_of(db, appointment.slot_id)
    certificate = administration.certificate_number
    tell(
        db,
        notice_for(
            appointment,
            place,
            "recorded",
            certificate=f"新冠病毒疫苗接种证明（{certificate}）已更新，可在卡包中查看。"
            if certificate
            else "",
            certificate_en=f"Your COVID-19 vaccination certificate ({certificate}) is updated in your wallet."
            if certificate
            else "",
        ),
    )
    return administration
