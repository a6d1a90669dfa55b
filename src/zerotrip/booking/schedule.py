"""Sites, their services, slot templates and slots; closures and capacity changes.

Nothing here strands a booking silently: closing a site (or one service) for some days closes its slots
there, cancels their bookings with the reason and tells each person, and ends the slots' waitlists;
cutting a slot's capacity below its bookings is refused unless the operator asks to cancel the excess
(the most recently made bookings, each person told); raising it books waiting people into the new seats.
Templates generate slots in bulk and never over a closure or a slot that exists already.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, cast

from sqlalchemy import Table, or_, select, update
from sqlalchemy.orm import Session

from zerotrip.audit.actions import record_event
from zerotrip.booking import actions, bulk, seats, waitlist
from zerotrip.booking.errors import (
    CapacityBelowBookings,
    InvalidSchedule,
    NotSiteOperator,
    ServiceNotFound,
    SiteCodeTaken,
    SiteNotFound,
    SlotNotFound,
)
from zerotrip.booking.models import Appointment, Closure, Service, Site, Slot, SlotTemplate, WaitlistEntry
from zerotrip.booking.notices import notice_for, tell
from zerotrip.booking.permissions import can_manage_site
from zerotrip.booking.products import find_product
from zerotrip.booking.schemas import ServiceSpec, SiteSpec, TemplateSpec
from zerotrip.common import clock
from zerotrip.config import BookingSettings
from zerotrip.identity import queries as identity_queries
from zerotrip.identity.actor import Actor

SITE_CREATED = "booking.site.created"
SERVICE_ADDED = "booking.service.added"
TEMPLATE_ADDED = "booking.template.added"
SLOTS_GENERATED = "booking.slots.generated"
CLOSED = "booking.site.closed"
CAPACITY_CHANGED = "booking.slot.capacity_changed"
MAX_GENERATE_DAYS = 62
_slot = cast(Table, Slot.__table__)


def get_site(db: Session, code: str) -> Site:
    site = db.scalar(select(Site).where(Site.code == code))
    if site is None:
        raise SiteNotFound()
    return site


def check_manager(db: Session, actor: Actor, site: Site) -> None:
    """Raises NotSiteOperator unless the actor manages the site's organisation."""
    org = identity_queries.get_organisation(db, site.org_id)
    if not can_manage_site(actor, org.path):
        raise NotSiteOperator(f"this needs the site operator role at {org.name}")


def create_site(db: Session, *, actor: Actor, spec: SiteSpec) -> Site:
    """Add a site run by the department ``spec.org_code``. Its operators and the platform administrator over
    it may. Raises SiteCodeTaken, InvalidSchedule (no such department), NotSiteOperator."""
    org = identity_queries.find_organisation_by_code(db, spec.org_code)
    if org is None or org.kind != "department":
        raise InvalidSchedule.field("org_code", "name the department that runs the site")
    if not can_manage_site(actor, org.path):
        raise NotSiteOperator(f"this needs the site operator role at {org.name}")
    if db.scalar(select(Site.id).where(Site.code == spec.code)) is not None:
        raise SiteCodeTaken()
    site = Site(
        code=spec.code,
        name=spec.name,
        division_code=spec.division_code,
        org_id=org.id,
        address=spec.address,
        latitude=spec.latitude,
        longitude=spec.longitude,
        phone=spec.phone,
        opening_hours={k: [list(p) for p in v] for k, v in spec.opening_hours.items()},
        is_active=True,
        created_at=clock.now(),
    )
    db.add(site)
    record_event(
        db, actor=actor.principal, action=SITE_CREATED, subject_type="site", subject_id=spec.code, data={}
    )
    return site


def add_service(db: Session, *, actor: Actor, site_code: str, spec: ServiceSpec) -> Service:
    """Offer a product of the catalogue at a site (again: the existing service). Raises SiteNotFound,
    NotSiteOperator, InvalidSchedule (a product the catalogue does not know)."""
    site = get_site(db, site_code)
    check_manager(db, actor, site)
    if find_product(spec.product_code) is None:
        raise InvalidSchedule.field("product_code", "not a product of the catalogue")
    existing = db.scalar(
        select(Service).where(Service.site_id == site.id, Service.product_code == spec.product_code)
    )
    if existing is not None:
        existing.has_waitlist, existing.is_active = spec.has_waitlist, True
        return existing
    service = Service(
        site_id=site.id,
        product_code=spec.product_code,
        has_waitlist=spec.has_waitlist,
        is_active=True,
        created_at=clock.now(),
    )
    db.add(service)
    record_event(
        db,
        actor=actor.principal,
        action=SERVICE_ADDED,
        subject_type="site",
        subject_id=site.code,
        data={"product": spec.product_code},
    )
    return service


def get_service(db: Session, site: Site, product_code: str) -> Service:
    service = db.scalar(
        select(Service).where(Service.site_id == site.id, Service.product_code == product_code)
    )
    if service is None:
        raise ServiceNotFound()
    return service


def add_templates(
    db: Session, *, actor: Actor, site_code: str, product_code: str, spec: TemplateSpec
) -> list[SlotTemplate]:
    """A weekly slot pattern for one service of the site: one template per weekday of ``spec``. Raises
    SiteNotFound, ServiceNotFound, NotSiteOperator, InvalidSchedule (a slot past midnight, a period that
    ends before it starts)."""
    site = get_site(db, site_code)
    check_manager(db, actor, site)
    service = get_service(db, site, product_code)
    ends = datetime.combine(date(2000, 1, 1), spec.starts_at) + timedelta(minutes=spec.minutes)
    if ends.date() != date(2000, 1, 1) and ends.time() != datetime.min.time():
        raise InvalidSchedule.field("minutes", "a slot ends on the day it starts")
    if spec.valid_until is not None and spec.valid_until < spec.valid_from:
        raise InvalidSchedule.field("valid_until", "on or after valid_from")
    now = clock.now()
    templates = [
        SlotTemplate(
            service_id=service.id,
            weekday=weekday,
            starts_at=spec.starts_at,
            minutes=spec.minutes,
            capacity=spec.capacity,
            valid_from=spec.valid_from,
            valid_until=spec.valid_until,
            created_at=now,
        )
        for weekday in spec.weekdays
    ]
    db.add_all(templates)
    record_event(
        db,
        actor=actor.principal,
        action=TEMPLATE_ADDED,
        subject_type="site",
        subject_id=site.code,
        data={"product": product_code, **spec.model_dump(mode="json")},
    )
    return templates


# A template as slot generation reads it: (id, service id, site id, weekday, start, minutes, capacity,
# valid from, valid until).
TemplateRow = tuple[int, int, int, int, time, int, int, date, date | None]
SLOT_COLUMNS = (
    "service_id",
    "site_id",
    "template_id",
    "day",
    "starts_at",
    "ends_at",
    "capacity",
    "booked",
    "status",
)


def slot_rows(
    templates: list[TemplateRow],
    *,
    first_day: date,
    last_day: date,
    closed: dict[int, list[tuple[int | None, date, date]]],
    taken: set[tuple[int, datetime]],
) -> list[tuple[Any, ...]]:
    """The slots ``templates`` make from ``first_day`` to ``last_day`` (tuples in ``SLOT_COLUMNS`` order),
    leaving out days a closure of the site or service covers and (service, start) pairs in ``taken``.
    Pure; each template visits only its weekdays, and each (day, start) is converted to UTC once."""
    rows: list[tuple[Any, ...]] = []
    instants: dict[tuple[date, time], datetime] = {}
    for (
        template_id,
        service_id,
        site_id,
        weekday,
        starts,
        minutes,
        capacity,
        valid_from,
        valid_until,
    ) in templates:
        begin = max(first_day, valid_from)
        end = min(last_day, valid_until or last_day)
        day = begin + timedelta(days=(weekday - begin.isoweekday()) % 7)
        closures = closed.get(site_id, ())
        length = timedelta(minutes=minutes)
        while day <= end:
            if not closures or not _is_closed(closures, service_id, day):
                at = instants.get((day, starts))
                if at is None:
                    at = instants[day, starts] = datetime.combine(day, starts, tzinfo=clock.CHINA).astimezone(
                        UTC
                    )
                if (service_id, at) not in taken:
                    rows.append((service_id, site_id, template_id, day, at, at + length, capacity, 0, "open"))
            day += timedelta(days=7)
    return rows


def _is_closed(closures: Any, service_id: int, day: date) -> bool:
    return any((sid is None or sid == service_id) and first <= day <= last for sid, first, last in closures)


def generate_slots(
    db: Session, *, actor: Actor, first_day: date, last_day: date, site_code: str | None = None
) -> int:
    """Make the slots every template (of one site, or, for the platform, of every site) gives from
    ``first_day`` to ``last_day`` that do not exist yet, in bulk. Returns how many were made. Raises
    SiteNotFound, NotSiteOperator, InvalidSchedule (a backwards or too long period, no site named)."""
    if last_day < first_day or (last_day - first_day).days >= MAX_GENERATE_DAYS:
        raise InvalidSchedule.field("last_day", f"a period of 1 to {MAX_GENERATE_DAYS} days")
    query = (
        select(
            SlotTemplate.id,
            SlotTemplate.service_id,
            Service.site_id,
            SlotTemplate.weekday,
            SlotTemplate.starts_at,
            SlotTemplate.minutes,
            SlotTemplate.capacity,
            SlotTemplate.valid_from,
            SlotTemplate.valid_until,
        )
        .join(Service, Service.id == SlotTemplate.service_id)
        .join(Site, Site.id == Service.site_id)
        .where(
            Service.is_active.is_(True),
            Site.is_active.is_(True),
            SlotTemplate.valid_from <= last_day,
            or_(SlotTemplate.valid_until.is_(None), SlotTemplate.valid_until >= first_day),
        )
    )
    closures = select(Closure.site_id, Closure.service_id, Closure.first_day, Closure.last_day).where(
        Closure.last_day >= first_day, Closure.first_day <= last_day
    )
    existing = select(Slot.service_id, Slot.starts_at).where(Slot.day >= first_day, Slot.day <= last_day)
    if site_code is not None:
        site = get_site(db, site_code)
        check_manager(db, actor, site)
        query = query.where(Service.site_id == site.id)
        closures = closures.where(Closure.site_id == site.id)
        existing = existing.where(Slot.site_id == site.id)
    elif actor.kind != "system":
        raise InvalidSchedule.field("site_code", "name the site")
    templates: list[TemplateRow] = [tuple(row) for row in db.execute(query)]  # type: ignore[misc]
    closed: dict[int, list[tuple[int | None, date, date]]] = {}
    for site_id, service_id, first, last in db.execute(closures):
        closed.setdefault(site_id, []).append((service_id, first, last))
    taken = {(service_id, starts) for service_id, starts in db.execute(existing)}
    rows = slot_rows(templates, first_day=first_day, last_day=last_day, closed=closed, taken=taken)
    bulk.insert_rows(db, _slot, SLOT_COLUMNS, rows)
    record_event(
        db,
        actor=actor.principal,
        action=SLOTS_GENERATED,
        subject_type="site",
        subject_id=site_code or "*",
        data={"first_day": first_day.isoformat(), "last_day": last_day.isoformat(), "slots": len(rows)},
    )
    return len(rows)


@dataclass(frozen=True)
class Closed:
    closure: Closure
    slots: int
    cancelled: int


def close_site(
    db: Session,
    *,
    actor: Actor,
    site_code: str,
    first_day: date,
    last_day: date,
    reason: str,
    product_code: str | None = None,
) -> Closed:
    """Close a site, or one of its services, from ``first_day`` to ``last_day``: its slots there close,
    every active booking in them is cancelled with ``reason`` and its person told, their waitlists end.
    Raises SiteNotFound, ServiceNotFound, NotSiteOperator, InvalidSchedule."""
    site = get_site(db, site_code)
    check_manager(db, actor, site)
    if not reason.strip():
        raise InvalidSchedule.field("reason", "people are told why: state the reason")
    if last_day < first_day:
        raise InvalidSchedule.field("last_day", "the period ends on or after its first day")
    service = get_service(db, site, product_code) if product_code else None
    closure = Closure(
        site_id=site.id,
        service_id=service.id if service else None,
        first_day=first_day,
        last_day=last_day,
        reason=reason.strip(),
        closed_by=actor.principal,
        created_at=clock.now(),
    )
    db.add(closure)
    query = select(Slot).where(Slot.site_id == site.id, Slot.day >= first_day, Slot.day <= last_day)
    if service is not None:
        query = query.where(Slot.service_id == service.id)
    slots = list(db.scalars(query.with_for_update()))
    cancelled = 0
    for slot in slots:
        slot.status, slot.closed_reason = "closed", closure.reason
        cancelled += _cancel_all(db, actor, slot, reason=closure.reason)
        db.execute(
            update(WaitlistEntry)
            .where(WaitlistEntry.slot_id == slot.id, WaitlistEntry.status == "waiting")
            .values(status="expired", note="the slot was closed", updated_at=clock.now())
        )
    record_event(
        db,
        actor=actor.principal,
        action=CLOSED,
        subject_type="site",
        subject_id=site.code,
        data={
            "first_day": first_day.isoformat(),
            "last_day": last_day.isoformat(),
            "product": product_code,
            "reason": closure.reason,
            "slots": len(slots),
            "cancelled": cancelled,
        },
    )
    return Closed(closure=closure, slots=len(slots), cancelled=cancelled)


def _cancel_all(db: Session, actor: Actor, slot: Slot, *, reason: str, newest: int | None = None) -> int:
    """Cancel the slot's bookings not yet checked in (all, or the ``newest`` most recently made), telling
    each person why. Returns how many."""
    query = select(Appointment).where(Appointment.slot_id == slot.id, Appointment.status == "booked")
    query = query.order_by(Appointment.created_at.desc(), Appointment.number.desc())
    if newest is not None:
        query = query.limit(newest)
    doomed = list(db.scalars(query))
    if not doomed:
        return 0
    place = seats.place_of(db, slot.id)
    for appointment in doomed:
        actions.end_appointment(db, appointment, by="site", reason=reason, actor=actor)
        tell(db, notice_for(appointment, place, "cancelled_by_site", reason=reason))
    return len(doomed)


def change_capacity(
    db: Session,
    *,
    actor: Actor,
    slot_id: int,
    capacity: int,
    settings: BookingSettings,
    cancel_excess: bool = False,
) -> Slot:
    """Set a slot's capacity. Below its bookings this is refused (CapacityBelowBookings, saying how many)
    unless ``cancel_excess``: then the most recently made bookings not yet checked in are cancelled and
    their people told. Seats added go to the waitlist first. Raises SlotNotFound, NotSiteOperator,
    CapacityBelowBookings, InvalidSchedule (below the people already checked in)."""
    slot = db.scalar(select(Slot).where(Slot.id == slot_id).with_for_update())
    if slot is None:
        raise SlotNotFound()
    site = db.get_one(Site, slot.site_id)
    check_manager(db, actor, site)
    if capacity < 0:
        raise InvalidSchedule.field("capacity", "zero or more seats")
    previous = slot.capacity
    excess = slot.booked - capacity
    if excess > 0:
        checked_in = slot.booked - len(
            db.scalars(
                select(Appointment.id).where(Appointment.slot_id == slot.id, Appointment.status == "booked")
            ).all()
        )
        if capacity < checked_in:
            raise InvalidSchedule.field("capacity", f"{checked_in} people are already checked in")
        if not cancel_excess:
            raise CapacityBelowBookings(f"{excess} bookings would be cancelled", bookings=excess)
        _cancel_all(db, actor, slot, reason="the site cut the slot's capacity", newest=excess)
        db.refresh(slot)
    slot.capacity = capacity
    record_event(
        db,
        actor=actor.principal,
        action=CAPACITY_CHANGED,
        subject_type="site",
        subject_id=site.code,
        data={"slot_id": slot.id, "from": previous, "to": capacity, "cancelled": max(0, excess)},
    )
    db.flush()
    if capacity > previous:
        waitlist.promote(db, place=seats.place_of(db, slot.id), settings=settings)
    db.refresh(slot)
    return slot
