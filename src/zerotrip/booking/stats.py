"""Operator statistics for the pages' charts: capacity and seats taken per day and county, no-shows per
county, and uptake (doses recorded at sites) per county.

Each is one grouped statement. Who sees what: a site operator or platform administrator sees the sites in
the divisions their roles cover (a county health bureau's operator its county, the provincial platform
administrator the province); the system (CLI) sees everything. Anyone else gets NotSiteOperator.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import ColumnElement, case, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from zerotrip.booking.errors import NotSiteOperator
from zerotrip.booking.models import Administration, Appointment, Site, Slot
from zerotrip.booking.permissions import OPERATOR_ROLE
from zerotrip.booking.schemas import CapacityRow, NoShowRow, UptakeRow
from zerotrip.identity.actor import Actor
from zerotrip.identity.permissions import division_prefix
from zerotrip.problems import ValidationFailed

MAX_DAYS = 92


def _divisions(actor: Actor) -> list[str] | None:
    """The division prefixes the actor's statistics cover (None: all). Raises NotSiteOperator."""
    if actor.kind == "system":
        return None
    prefixes = sorted(
        {
            division_prefix(g.division_code)
            for g in actor.grants
            if actor.kind == "staff" and g.role in (OPERATOR_ROLE, "platform_admin")
        }
    )
    if not prefixes:
        raise NotSiteOperator("statistics are for site operators and platform administrators")
    return prefixes


def _covered(
    column: InstrumentedAttribute[str], prefixes: list[str] | None, division: str | None
) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if prefixes is not None:
        where.append(or_(*(column.startswith(p) for p in prefixes)))
    if division is not None:
        where.append(column.startswith(division_prefix(division)))
    return where


def _period(first_day: date, last_day: date) -> None:
    if last_day < first_day or (last_day - first_day).days >= MAX_DAYS:
        raise ValidationFailed.field("last_day", f"a period of 1 to {MAX_DAYS} days")


def capacity_by_day(
    db: Session, *, actor: Actor, first_day: date, last_day: date, division_code: str | None = None
) -> list[CapacityRow]:
    """Per day and county: sites with slots, slots, seats and seats taken (open slots)."""
    _period(first_day, last_day)
    rows = db.execute(
        select(
            Slot.day,
            Site.division_code,
            func.count(func.distinct(Slot.site_id)),
            func.count(Slot.id),
            func.coalesce(func.sum(Slot.capacity), 0),
            func.coalesce(func.sum(Slot.booked), 0),
        )
        .join(Site, Site.id == Slot.site_id)
        .where(
            Slot.day >= first_day,
            Slot.day <= last_day,
            Slot.status == "open",
            *_covered(Site.division_code, _divisions(actor), division_code),
        )
        .group_by(Slot.day, Site.division_code)
        .order_by(Slot.day, Site.division_code)
    )
    return [
        CapacityRow(day=d, division_code=c, sites=s, slots=n, capacity=int(cap), booked=int(b))
        for d, c, s, n, cap, b in rows
    ]


def no_shows(
    db: Session, *, actor: Actor, first_day: date, last_day: date, division_code: str | None = None
) -> list[NoShowRow]:
    """Per county: bookings of the period whose slot has passed (served, missed, or checked in), and how
    many were missed."""
    _period(first_day, last_day)
    missed = func.sum(case((Appointment.status == "no_show", 1), else_=0))
    rows = db.execute(
        select(Site.division_code, func.count(Appointment.id), func.coalesce(missed, 0))
        .join(Site, Site.id == Appointment.site_id)
        .where(
            Appointment.day >= first_day,
            Appointment.day <= last_day,
            Appointment.status.in_(("checked_in", "completed", "no_show")),
            *_covered(Site.division_code, _divisions(actor), division_code),
        )
        .group_by(Site.division_code)
        .order_by(Site.division_code)
    )
    return [
        NoShowRow(
            division_code=c,
            past_bookings=int(n),
            no_shows=int(m),
            rate=round(int(m) / int(n), 4) if n else 0.0,
        )
        for c, n, m in rows
    ]


def uptake_by_county(
    db: Session,
    *,
    actor: Actor,
    first_day: date,
    last_day: date,
    vaccine_kind: str | None = None,
    division_code: str | None = None,
) -> list[UptakeRow]:
    """Per county of the site: doses recorded in the period and the distinct people who received them."""
    _period(first_day, last_day)
    query = (
        select(
            Administration.division_code,
            func.count(Administration.id),
            func.count(func.distinct(Administration.person_id)),
        )
        .join(Appointment, Appointment.id == Administration.appointment_id)
        .where(
            Appointment.day >= first_day,
            Appointment.day <= last_day,
            *_covered(Administration.division_code, _divisions(actor), division_code),
        )
        .group_by(Administration.division_code)
        .order_by(Administration.division_code)
    )
    if vaccine_kind is not None:
        query = query.where(Administration.vaccine_kind == vaccine_kind)
    return [UptakeRow(division_code=c, doses=int(n), people=int(p)) for c, n, p in db.execute(query)]
