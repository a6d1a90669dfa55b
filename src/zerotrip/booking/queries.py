"""Booking reads for the API, the pages and the CLI: the product catalogue, site search with the next free
slots, slots, a person's bookings and profiles, eligibility before booking, the record lookup (随身查), and
site operators' day lists. ``get_*`` raises a NotFound problem, ``list_*`` and ``search_*`` page.

Every read returns schemas (plain values), built with a fixed number of statements per page, never one per
row.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from zerotrip.booking import geo, ical, seats
from zerotrip.booking.actions import Outcome
from zerotrip.booking.errors import AppointmentNotFound, SiteNotFound
from zerotrip.booking.models import Appointment, Profile, Service, Site, Slot, WaitlistEntry
from zerotrip.booking.permissions import can_operate_site
from zerotrip.booking.products import PRODUCTS, Product, get_product
from zerotrip.booking.schemas import (
    AppointmentRead,
    ProductRead,
    ServiceRead,
    SitePage,
    SiteRead,
    SlotRead,
    WaitlistRead,
)
from zerotrip.booking.site_actions import qr_payload
from zerotrip.booking.waitlist import position_of
from zerotrip.common import clock
from zerotrip.identity import queries as identity_queries
from zerotrip.identity.actor import Actor
from zerotrip.identity.permissions import division_prefix
from zerotrip.problems import ValidationFailed

NEXT_FREE = 3  # free slots shown per site in search results
NEAR_KM = 30.0  # how far "near a place" reaches


# -- the catalogue -------------------------------------------------------------------------------------------


def product_read(product: Product) -> ProductRead:
    return ProductRead(
        code=product.code,
        name=product.name,
        name_en=product.name_en,
        category=product.category,
        vaccine_kind=product.vaccine_kind,
        min_age_months=product.min_age_months,
        max_age_months=product.max_age_months,
        doses=len(product.primary),
        has_booster=product.booster is not None,
        slot_minutes=product.slot_minutes,
    )


def list_products() -> list[ProductRead]:
    return [product_read(p) for p in PRODUCTS]


# -- sites and slots -----------------------------------------------------------------------------------------


def slot_read(slot: Slot, site_code: str, product_code: str) -> SlotRead:
    return SlotRead(
        id=slot.id,
        site_code=site_code,
        product_code=product_code,
        day=slot.day,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        capacity=slot.capacity,
        booked=slot.booked,
        free=max(0, slot.capacity - slot.booked),
        status="open" if slot.status == "open" else "closed",
    )


def service_read(service: Service) -> ServiceRead:
    product = get_product(service.product_code)
    return ServiceRead(
        product_code=product.code,
        name=product.name,
        name_en=product.name_en,
        category=product.category,
        has_waitlist=service.has_waitlist,
    )


def site_read(site: Site, services: Sequence[Service] = (), **extra: object) -> SiteRead:
    return SiteRead(
        code=site.code,
        name=site.name,
        division_code=site.division_code,
        address=site.address,
        latitude=site.latitude,
        longitude=site.longitude,
        phone=site.phone,
        opening_hours=site.opening_hours,
        services=[service_read(s) for s in services if s.is_active],
        **extra,
    )


def get_site(db: Session, code: str) -> SiteRead:
    site = db.scalar(select(Site).where(Site.code == code))
    if site is None:
        raise SiteNotFound()
    services = db.scalars(select(Service).where(Service.site_id == site.id).order_by(Service.product_code))
    return site_read(site, list(services))


def search_sites(
    db: Session,
    *,
    near: str | None = None,
    division_code: str | None = None,
    product_code: str | None = None,
    day: date | None = None,
    page: int = 1,
    per_page: int = 20,
) -> SitePage:
    """Active sites near a place (a division code or ``latitude,longitude``, within ``NEAR_KM``, nearest
    first) and/or in a division (a county, a city, the province), offering ``product_code``; each with its
    next free slots (on ``day`` if given). Raises ValidationFailed (an unknown place or product)."""
    if product_code is not None and product_code not in {p.code for p in PRODUCTS}:
        raise ValidationFailed.field("product", "not a product of the catalogue")
    query = select(Site).where(Site.is_active.is_(True))
    if division_code is not None:
        query = query.where(Site.division_code.startswith(division_prefix(division_code)))
    if product_code is not None:
        query = query.where(
            select(Service.id)
            .where(
                Service.site_id == Site.id, Service.product_code == product_code, Service.is_active.is_(True)
            )
            .exists()
        )
    distances: dict[int, float] = {}
    if near is not None:
        try:
            place = geo.resolve_place(near)
        except geo.UnknownPlace as exc:
            raise ValidationFailed.field("near", str(exc)) from exc
        reach = max(NEAR_KM, place.radius_km or 0.0)
        box = geo.bounding_box(place.point, reach)
        query = query.where(
            Site.latitude.between(box.min_latitude, box.max_latitude),
            Site.longitude.between(box.min_longitude, box.max_longitude),
        )
        candidates = list(db.scalars(query))
        ranked = geo.nearest(
            place.point,
            candidates,
            key=lambda s: geo.Point(s.latitude, s.longitude),
            n=len(candidates),
            within_km=reach,
        )
        distances = {s.id: d for d, s in ranked}
        total = len(ranked)
        sites = [s for _, s in ranked[(page - 1) * per_page : page * per_page]]
    else:
        total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
        sites = list(db.scalars(query.order_by(Site.code).offset((page - 1) * per_page).limit(per_page)))
    ids = [s.id for s in sites]
    services: dict[int, list[Service]] = {}
    for service in db.scalars(select(Service).where(Service.site_id.in_(ids)).order_by(Service.product_code)):
        services.setdefault(service.site_id, []).append(service)
    free = _next_free(db, sites, services, product_code=product_code, day=day)
    items = [
        site_read(
            s,
            services.get(s.id, []),
            distance_km=round(distances[s.id], 2) if s.id in distances else None,
            next_free=free.get(s.id, []),
        )
        for s in sites
    ]
    return SitePage(items=items, total=total, page=page, per_page=per_page)


def _next_free(
    db: Session,
    sites: list[Site],
    services: dict[int, list[Service]],
    *,
    product_code: str | None,
    day: date | None,
) -> dict[int, list[SlotRead]]:
    """The first ``NEXT_FREE`` open, future slots with seats left of each site, in one statement."""
    if not sites:
        return {}
    now = clock.now()
    rank = func.row_number().over(partition_by=Slot.site_id, order_by=(Slot.starts_at, Slot.id)).label("rank")
    inner = (
        select(Slot.id, rank)
        .join(Service, Service.id == Slot.service_id)
        .where(
            Slot.site_id.in_([s.id for s in sites]),
            Slot.status == "open",
            Slot.booked < Slot.capacity,
            Slot.starts_at > now,
            Slot.day >= (day or now.astimezone(clock.CHINA).date()),
            Service.is_active.is_(True),
        )
    )
    if day is not None:
        inner = inner.where(Slot.day == day)
    if product_code is not None:
        inner = inner.where(Service.product_code == product_code)
    ranked = inner.subquery()
    rows = db.execute(
        select(Slot, Service.product_code)
        .join(ranked, ranked.c.id == Slot.id)
        .join(Service, Service.id == Slot.service_id)
        .where(ranked.c.rank <= NEXT_FREE)
        .order_by(Slot.site_id, Slot.starts_at)
    )
    codes = {s.id: s.code for s in sites}
    found: dict[int, list[SlotRead]] = {}
    for slot, product in rows:
        found.setdefault(slot.site_id, []).append(slot_read(slot, codes[slot.site_id], product))
    return found


def list_slots(
    db: Session, *, site_code: str, product_code: str | None = None, first_day: date, last_day: date
) -> list[SlotRead]:
    """A site's slots (open and closed) from ``first_day`` to ``last_day``, in order. Raises SiteNotFound."""
    site = db.scalar(select(Site).where(Site.code == site_code))
    if site is None:
        raise SiteNotFound()
    query = (
        select(Slot, Service.product_code)
        .join(Service, Service.id == Slot.service_id)
        .where(Slot.site_id == site.id, Slot.day >= first_day, Slot.day <= last_day)
        .order_by(Slot.starts_at, Service.product_code)
    )
    if product_code is not None:
        query = query.where(Service.product_code == product_code)
    return [slot_read(slot, site.code, product) for slot, product in db.execute(query)]


# -- appointments --------------------------------------------------------------------------------------------


def appointment_reads(
    db: Session, appointments: Sequence[Appointment], *, with_qr: bool = False
) -> list[AppointmentRead]:
    """Reads of many appointments in three statements (slots, sites, names)."""
    slots = {s.id: s for s in db.scalars(select(Slot).where(Slot.id.in_({a.slot_id for a in appointments})))}
    sites = {s.id: s for s in db.scalars(select(Site).where(Site.id.in_({a.site_id for a in appointments})))}
    names = {
        person_id: name
        for person_id, name in db.execute(
            select(Profile.person_id, Profile.name).where(
                Profile.person_id.in_({a.person_id for a in appointments})
            )
        )
    }
    return [
        read_of(
            a,
            slot=slots[a.slot_id],
            site=sites[a.site_id],
            person_name=names.get(a.person_id, ""),
            with_qr=with_qr,
        )
        for a in appointments
    ]


def read_of(
    a: Appointment, *, slot: Slot, site: Site, person_name: str, with_qr: bool = False
) -> AppointmentRead:
    """An appointment's read from the rows it refers to (a new booking's answer, built from the rows its
    transaction holds, reads nothing)."""
    product = get_product(a.product_code)
    return AppointmentRead(
        number=a.number,
        status=a.status,
        resident_id=a.resident_id,
        person_name=person_name,
        product_code=a.product_code,
        product_name=product.name,
        product_name_en=product.name_en,
        dose=a.dose,
        site_code=site.code,
        site_name=site.name,
        site_address=site.address,
        day=a.day,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        created_at=a.created_at,
        cancelled_at=a.cancelled_at,
        cancelled_by=a.cancelled_by,
        cancel_reason=a.cancel_reason,
        checked_in_at=a.checked_in_at,
        completed_at=a.completed_at,
        qr_payload=qr_payload(a) if with_qr and a.status == "booked" else None,
    )


def booked_read(db: Session, outcome: Outcome) -> AppointmentRead:
    """The answer to a booking attempt that booked (with the QR): a new booking's built from what its
    transaction holds, without another statement; a replayed one's read. Raises the outcome's refusal."""
    appointment = outcome.raise_for_refusal()
    if outcome.place is None or outcome.person_name is None:
        return appointment_read(db, appointment, with_qr=True)
    place = outcome.place
    return read_of(
        appointment, slot=place.slot, site=place.site, person_name=outcome.person_name, with_qr=True
    )


def appointment_read(db: Session, appointment: Appointment, *, with_qr: bool = False) -> AppointmentRead:
    return appointment_reads(db, [appointment], with_qr=with_qr)[0]


def get_appointment(db: Session, *, actor: Actor, number: str) -> AppointmentRead:
    """One booking, for the person it is for, whoever booked it, or an operator of its site (without the QR).
    Raises AppointmentNotFound."""
    appointment = db.scalar(select(Appointment).where(Appointment.number == seats.normalise_number(number)))
    if appointment is None:
        raise AppointmentNotFound()
    if actor.kind == "citizen" and actor.person_id in (
        appointment.person_id,
        appointment.booked_by_person_id,
    ):
        return appointment_read(db, appointment, with_qr=True)
    site = db.get_one(Site, appointment.site_id)
    if can_operate_site(actor, identity_queries.get_organisation(db, site.org_id).path):
        return appointment_read(db, appointment)
    raise AppointmentNotFound()


def calendar_file(db: Session, *, actor: Actor, number: str, public_url: str) -> bytes:
    """The booking's iCalendar file (RFC 5545), for the same people as ``get_appointment``: one event whose
    UID stays the booking's for its whole life, its sequence the number of reschedules, cancelled when the
    booking is. Raises AppointmentNotFound."""
    read = get_appointment(db, actor=actor, number=number)
    appointment = db.scalar(select(Appointment).where(Appointment.number == read.number))
    assert appointment is not None
    site = db.get_one(Site, appointment.site_id)
    host = public_url.split("://", 1)[-1].split("/", 1)[0] or "zerotrip"
    dose = f" 第{read.dose}剂" if get_product(read.product_code).is_vaccine else ""
    event = ical.Appointment(
        uid=f"{read.number}@{host}",
        summary=f"{read.product_name}{dose}（{read.site_name}）",
        starts_at=read.starts_at,
        ends_at=read.ends_at,
        location=f"{site.name}，{site.address}",
        description=f"预约号 {read.number}。请携带身份证件，按预约时段到场并出示预约二维码。",
        latitude=site.latitude,
        longitude=site.longitude,
        url=f"{public_url.rstrip('/')}/booking/appointments/{read.number}",
        sequence=appointment.rescheduled_count,
        status="cancelled" if read.status == "cancelled" else "confirmed",
        reminder=f"明天 {read.starts_at.astimezone(clock.CHINA):%H:%M} {read.site_name} {read.product_name}",
    )
    return ical.calendar_file(event, stamp=clock.now())


def find_own_appointment(db: Session, *, actor: Actor, number: str) -> Appointment | None:
    appointment = db.scalar(select(Appointment).where(Appointment.number == seats.normalise_number(number)))
    if appointment is None or actor.kind != "citizen":
        return None
    if actor.person_id not in (appointment.person_id, appointment.booked_by_person_id):
        return None
    return appointment


def list_my_appointments(
    db: Session, *, actor: Actor, page: int = 1, per_page: int = 20, status: str | None = None
) -> tuple[list[AppointmentRead], int]:
    """The bookings the citizen holds or made for family members, the newest slot first."""
    person = seats.booker_id(db, actor)
    query = select(Appointment).where(
        (Appointment.person_id == person) | (Appointment.booked_by_person_id == person)
    )
    if status is not None:
        query = query.where(Appointment.status == status)
    total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = list(
        db.scalars(
            query.order_by(Appointment.day.desc(), Appointment.created_at.desc())
            .offset((page - 1) * per_page)
            .limit(per_page)
        )
    )
    return appointment_reads(db, rows, with_qr=True), total


def list_my_waitlist(db: Session, *, actor: Actor) -> list[WaitlistRead]:
    person = seats.booker_id(db, actor)
    entries = list(
        db.scalars(
            select(WaitlistEntry)
            .where((WaitlistEntry.person_id == person) | (WaitlistEntry.booked_by_person_id == person))
            .order_by(WaitlistEntry.id.desc())
            .limit(100)
        )
    )
    return [waitlist_read(db, e) for e in entries]


def waitlist_read(db: Session, entry: WaitlistEntry) -> WaitlistRead:
    number = (
        db.scalar(select(Appointment.number).where(Appointment.id == entry.appointment_id))
        if entry.appointment_id
        else None
    )
    resident_id = db.scalar(select(Profile.resident_id).where(Profile.person_id == entry.person_id)) or ""
    return WaitlistRead(
        id=entry.id,
        slot_id=entry.slot_id,
        resident_id=resident_id,
        status=entry.status,
        position=position_of(db, entry),
        appointment_number=number,
        note=entry.note,
        created_at=entry.created_at,
    )
