"""View-models of the residents' own booking pages: my bookings, one booking with its QR and calendar file,
the profile (建档) and the vaccination record (随身查)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from sqlalchemy.orm import Session

from zerotrip.booking import people_queries, queries
from zerotrip.booking.products import COVID, find_product
from zerotrip.booking.schemas import AppointmentRead, WaitlistRead
from zerotrip.certificates import qr
from zerotrip.common import clock
from zerotrip.common.divisions import find_division
from zerotrip.config import BookingSettings
from zerotrip.identity.actor import Actor
from zerotrip.web import booking_text as words
from zerotrip.web.booking_views import site_url, time_span
from zerotrip.web.datahub_text import ProblemView, Text
from zerotrip.web.i18n import N_
from zerotrip.web.page_kit import Pager, china_time, pager
from zerotrip.web.views import mask_resident_id

# -- my bookings ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BookingRow:
    number: str
    status: str
    status_label: str
    tone: str
    person_name: str
    product_name: str
    product_name_en: str
    dose: int
    is_vaccine: bool
    site_name: str
    day: str
    time: str
    url: str


@dataclass(frozen=True)
class WaitRow:
    id: int
    status: str
    status_label: str
    position: int
    appointment_url: str | None
    created_at: str


@dataclass(frozen=True)
class MyBookingsView:
    upcoming: tuple[BookingRow, ...]
    past: tuple[BookingRow, ...]
    waiting: tuple[WaitRow, ...]
    pager: Pager
    notice: Text | None


def booking_row(a: AppointmentRead) -> BookingRow:
    product = find_product(a.product_code)
    return BookingRow(
        number=a.number,
        status=a.status,
        status_label=words.STATUS_LABELS.get(a.status, a.status),
        tone=words.STATUS_TONES.get(a.status, ""),
        person_name=a.person_name,
        product_name=a.product_name,
        product_name_en=a.product_name_en,
        dose=a.dose,
        is_vaccine=bool(product and product.is_vaccine),
        site_name=a.site_name,
        day=a.day.isoformat(),
        time=time_span(a.starts_at, a.ends_at),
        url=f"/booking/appointments/{a.number}",
    )


def _wait_row(w: WaitlistRead) -> WaitRow:
    return WaitRow(
        id=w.id,
        status=w.status,
        status_label=words.WAITLIST_LABELS.get(w.status, w.status),
        position=w.position,
        appointment_url=f"/booking/appointments/{w.appointment_number}" if w.appointment_number else None,
        created_at=china_time(w.created_at),
    )


def my_bookings(db: Session, actor: Actor, *, page: int, notice: Text | None = None) -> MyBookingsView:
    items, total = queries.list_my_appointments(db, actor=actor, page=page, per_page=20)
    rows = [booking_row(a) for a in items]
    return MyBookingsView(
        upcoming=tuple(r for r in rows if r.status in ("booked", "checked_in")),
        past=tuple(r for r in rows if r.status not in ("booked", "checked_in")),
        waiting=tuple(_wait_row(w) for w in queries.list_my_waitlist(db, actor=actor)),
        pager=pager("/me/bookings", {}, page=page, per_page=20, total=total),
        notice=notice,
    )


@dataclass(frozen=True)
class BookingView:
    row: BookingRow
    resident_id_masked: str
    site_code: str
    site_address: str
    product_code: str
    booked_at: str
    cancelled_at: str
    cancelled_by: str | None  # an English msgid
    cancel_reason: str | None
    checked_in_at: str
    completed_at: str
    qr_svg: str | None  # while booked: what the site scans at check-in
    calendar_url: str
    can_change: bool
    reschedule_url: str
    other_sites_url: str
    notice: Text | None
    problem: ProblemView | None


def booking(
    db: Session,
    actor: Actor,
    number: str,
    *,
    notice: Text | None = None,
    problem: ProblemView | None = None,
) -> BookingView:
    """One of the citizen's bookings. Raises AppointmentNotFound."""
    a = queries.get_appointment(db, actor=actor, number=number)
    can_change = a.status == "booked" and a.starts_at > clock.now()
    return BookingView(
        row=booking_row(a),
        resident_id_masked=mask_resident_id(a.resident_id),
        site_code=a.site_code,
        site_address=a.site_address,
        product_code=a.product_code,
        booked_at=china_time(a.created_at),
        cancelled_at=china_time(a.cancelled_at),
        cancelled_by=words.CANCELLED_BY_LABELS.get(a.cancelled_by) if a.cancelled_by else None,
        cancel_reason=a.cancel_reason,
        checked_in_at=china_time(a.checked_in_at),
        completed_at=china_time(a.completed_at),
        qr_svg=qr.svg(a.qr_payload) if a.qr_payload else None,
        calendar_url=f"/booking/appointments/{a.number}/calendar.ics",
        can_change=can_change,
        reschedule_url=site_url(a.site_code, product=a.product_code, reschedule=a.number),
        other_sites_url="/booking?" + urlencode({"product": a.product_code, "reschedule": a.number}),
        notice=notice,
        problem=problem,
    )


# -- the profile (建档) -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProfileRow:
    resident_id: str  # only the form's hidden value; the page shows the masked one
    masked_resident_id: str
    name: str
    relation: str  # an English msgid
    is_self: bool
    has_profile: bool
    sex: str  # an English msgid, "" without a profile
    birth_date: str
    division: str
    phone: str
    source: str | None
    source_updated_at: str
    updated_at: str


@dataclass(frozen=True)
class ProfileView:
    people: tuple[ProfileRow, ...]
    notice: Text | None
    problem: ProblemView | None
    problem_for: str | None  # whose form the problem is about


SEX_LABELS = {"male": N_("Male"), "female": N_("Female")}


def profiles(
    db: Session,
    actor: Actor,
    *,
    notice: Text | None = None,
    problem: ProblemView | None = None,
    problem_for: str | None = None,
) -> ProfileView:
    """The citizen and the family members they may book for, with each one's profile if built. Raises
    BookingNotAllowed."""
    rows = []
    for choice in people_queries.list_people(db, actor=actor):
        p = choice.profile
        division = find_division(p.division_code) if p else None
        rows.append(
            ProfileRow(
                resident_id=choice.resident_id,
                masked_resident_id=mask_resident_id(choice.resident_id),
                name=choice.name,
                relation=words.RELATION_LABELS[choice.relation],
                is_self=choice.relation == "self",
                has_profile=p is not None,
                sex=SEX_LABELS[p.sex] if p else "",
                birth_date=p.birth_date.isoformat() if p else "",
                division=(division.name if division else p.division_code) if p else "",
                phone=p.phone if p else "",
                source=p.source_org_name if p else None,
                source_updated_at=china_time(p.source_updated_at) if p else "",
                updated_at=china_time(p.updated_at) if p else "",
            )
        )
    return ProfileView(people=tuple(rows), notice=notice, problem=problem, problem_for=problem_for)


# -- the vaccination record (随身查) -----------------------------------------------------------------------


@dataclass(frozen=True)
class DoseRow:
    vaccine_kind: str
    product: str
    manufacturer: str
    dose: int
    vaccinated_on: str
    batch_no: str
    site: str
    version: int


@dataclass(frozen=True)
class RecordsView:
    name: str
    masked_resident_id: str
    resident_id: str  # for the certificate form's hidden value
    source: str
    doses: tuple[DoseRow, ...]
    bookings: tuple[BookingRow, ...]
    people: tuple[ProfileRow, ...]
    has_covid_dose: bool
    notice: Text | None
    problem: ProblemView | None


def records(
    db: Session,
    actor: Actor,
    *,
    settings: BookingSettings,
    resident_id: str | None,
    notice: Text | None = None,
    problem: ProblemView | None = None,
) -> RecordsView:
    """随身查 for the citizen or a family member: the doses the health records hold now (read through the
    gateway, audited) and the bookings. Raises BookingNotAllowed, BookingSystemMissing."""
    found = people_queries.lookup_records(db, actor=actor, settings=settings, resident_id=resident_id)
    doses = tuple(
        DoseRow(
            vaccine_kind=d.vaccine_kind,
            product=d.product,
            manufacturer=d.manufacturer,
            dose=d.dose,
            vaccinated_on=d.vaccinated_on.isoformat(),
            batch_no=d.batch_no,
            site=d.site,
            version=d.version,
        )
        for d in sorted(found.doses, key=lambda d: (d.vaccine_kind, d.dose))
    )
    return RecordsView(
        name=found.name,
        masked_resident_id=mask_resident_id(found.resident_id),
        resident_id=found.resident_id,
        source=found.source,
        doses=doses,
        bookings=tuple(booking_row(a) for a in found.bookings),
        people=profiles(db, actor).people,
        has_covid_dose=any(d.vaccine_kind == COVID for d in doses),
        notice=notice,
        problem=problem,
    )
