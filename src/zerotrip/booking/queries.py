"""Booking reads for the API, the pages and the CLI: the product catalogue, site search with the next free
slots, slots, a person's bookings and profiles, eligibility before booking, the record lookup (随身查), and
site operators' day lists. ``get_*`` raises a NotFound problem, ``list_*`` and ``search_*`` page.

Every read returns schemas (plain values), built with a fixed number of statements per page, never one per
row.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from zerotrip.booking import geo, ical, seats, sources
from zerotrip.booking.errors import AppointmentNotFound, NotSiteOperator, SiteNotFound
from zerotrip.booking.models import Administration, Appointment, Profile, Service, Site, Slot, WaitlistEntry
from zerotrip.booking.permissions import can_operate_site, may_book_for_relative
from zerotrip.booking.products import PRODUCTS, Product, get_product
from zerotrip.booking.schemas import (
    AdministrationRead,
    AppointmentRead,
    DayEntry,
    DayList,
    DoseRead,
    EligibilityRead,
    PersonChoice,
    ProductRead,
    ProfileRead,
    RecordLookup,
    ServiceRead,
    SitePage,
    SiteRead,
    SlotRead,
    WaitlistRead,
)
from zerotrip.booking.site_actions import qr_payload
from zerotrip.booking.waitlist import position_of
from zerotrip.common import clock
from zerotrip.config import BookingSettings
from zerotrip.datahub.cache import CatalogueCache
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
    reads = []
    for a in appointments:
        slot, site, product = slots[a.slot_id], sites[a.site_id], get_product(a.product_code)
        reads.append(
            AppointmentRead(
                number=a.number,
                status=a.status,
                resident_id=a.resident_id,
                person_name=names.get(a.person_id, ""),
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
        )
    return reads


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
