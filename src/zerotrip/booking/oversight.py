"""Reads for the people who run booking rather than book: the sites a staff member operates, and the
platform operator's figures by county (capacity and seats taken, no-shows, doses given and people
vaccinated) and by day, with a fixed number of grouped statements whatever the number of sites.

The figures cover the divisions of the actor's ``platform_admin`` grants (the province's operator sees
every county; a city's, its own). Raises NotAllowed for anyone else.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from pydantic import BaseModel
from sqlalchemy import ColumnElement, case, distinct, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from zerotrip.booking.models import Administration, Appointment, Site, Slot
from zerotrip.booking.permissions import can_manage_site, operated_paths
from zerotrip.booking.queries import site_read
from zerotrip.booking.schemas import SiteRead
from zerotrip.common.clock import CHINA
from zerotrip.identity.actor import Actor
from zerotrip.identity.permissions import division_prefix
from zerotrip.identity.queries import get_organisation
from zerotrip.problems import NotAllowed

OVERSEER_ROLE = "platform_admin"


class CountyFigures(BaseModel):
    division_code: str
    sites: int
    capacity: int
    booked: int
    past_bookings: int
    no_shows: int
    doses: int
    people: int


class DayFigures(BaseModel):
    day: date
    slots: int
    capacity: int
    booked: int


class Figures(BaseModel):
    first_day: date
    last_day: date
    scopes: list[str]
    counties: list[CountyFigures]
    days: list[DayFigures]


def list_operated_sites(
    db: Session, *, actor: Actor, division_code: str | None = None, page: int = 1, per_page: int = 50
) -> tuple[list[SiteRead], int]:
    """A page of the sites run by organisations in the subtrees the actor operates or manages, optionally
    in one division, by code; and how many there are. Empty for anyone without such a role."""
    if not operated_paths(actor):
        return [], 0
    divisions = ["330000"] if actor.kind == "system" else sorted({g.division_code for g in actor.grants})
    in_scope = [_in_scope(Site.division_code, divisions), Site.is_active.is_(True)]
    if division_code:
        in_scope.append(Site.division_code.startswith(division_prefix(division_code)))
    # A division holds other departments' sites too: keep the organisations the actor's roles cover (one
    # look-up per organisation; sites are run by a few per county).
    org_ids = db.scalars(select(Site.org_id).where(*in_scope).distinct())
    allowed = [o for o in org_ids if can_manage_site(actor, get_organisation(db, o).path)]
    query = select(Site).where(*in_scope, Site.org_id.in_(allowed))
    total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
    sites = db.scalars(query.order_by(Site.code).offset((page - 1) * per_page).limit(per_page))
    return [site_read(s) for s in sites], total


def oversight_scopes(actor: Actor) -> list[str]:
    """The division codes whose figures the actor may see. Raises NotAllowed for anyone else."""
    if actor.kind == "system":
        return ["330000"]
    scopes = sorted({g.division_code for g in actor.grants if g.role == OVERSEER_ROLE and g.division_code})
    if actor.kind != "staff" or not scopes:
        raise NotAllowed("booking figures are for the platform operator")
    return scopes


def _in_scope(column: InstrumentedAttribute[str], scopes: list[str]) -> ColumnElement[bool]:
    return or_(*(column.startswith(division_prefix(code)) for code in scopes))


def figures(db: Session, *, actor: Actor, first_day: date, last_day: date, today: date) -> Figures:
    """Capacity and seats taken (open slots), no-shows among bookings of days before ``today``, and doses
    given, from ``first_day`` to ``last_day``, by county and by day. Raises NotAllowed."""
    scopes = oversight_scopes(actor)
    if last_day < first_day:
        first_day, last_day = last_day, first_day
    in_period = Slot.day.between(first_day, last_day)
    seats = db.execute(
        select(
            Site.division_code,
            func.count(distinct(Site.id)),
            func.coalesce(func.sum(Slot.capacity), 0),
            func.coalesce(func.sum(Slot.booked), 0),
        )
        .join(Slot, Slot.site_id == Site.id)
        .where(in_period, Slot.status == "open", _in_scope(Site.division_code, scopes))
        .group_by(Site.division_code)
    ).all()
    attended = ("checked_in", "completed", "no_show")
    shows = db.execute(
        select(
            Site.division_code,
            func.count(Appointment.id),
            func.coalesce(func.sum(case((Appointment.status == "no_show", 1), else_=0)), 0),
        )
        .join(Site, Site.id == Appointment.site_id)
        .where(
            Appointment.day.between(first_day, last_day),
            Appointment.day < today,
            Appointment.status.in_(attended),
            _in_scope(Site.division_code, scopes),
        )
        .group_by(Site.division_code)
    ).all()
    # The period's days in China, as instants: doses are stored with their UTC time.
    start = datetime.combine(first_day, time(0), tzinfo=CHINA)
    end = datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=CHINA)
    doses = db.execute(
        select(
            Administration.division_code,
            func.count(Administration.id),
            func.count(distinct(Administration.person_id)),
        )
        .where(
            Administration.administered_at >= start,
            Administration.administered_at < end,
            _in_scope(Administration.division_code, scopes),
        )
        .group_by(Administration.division_code)
    ).all()
    days = db.execute(
        select(
            Slot.day,
            func.count(Slot.id),
            func.coalesce(func.sum(Slot.capacity), 0),
            func.coalesce(func.sum(Slot.booked), 0),
        )
        .join(Site, Site.id == Slot.site_id)
        .where(in_period, Slot.status == "open", _in_scope(Site.division_code, scopes))
        .group_by(Slot.day)
        .order_by(Slot.day)
    ).all()
    counties: dict[str, dict[str, int]] = {}

    def row(code: str) -> dict[str, int]:
        return counties.setdefault(
            code,
            {
                "sites": 0,
                "capacity": 0,
                "booked": 0,
                "past_bookings": 0,
                "no_shows": 0,
                "doses": 0,
                "people": 0,
            },
        )

    for code, sites, capacity, booked in seats:
        row(code).update(sites=int(sites), capacity=int(capacity), booked=int(booked))
    for code, past, missed in shows:
        row(code).update(past_bookings=int(past), no_shows=int(missed))
    for code, given, people in doses:
        row(code).update(doses=int(given), people=int(people))
    return Figures(
        first_day=first_day,
        last_day=last_day,
        scopes=scopes,
        counties=[CountyFigures(division_code=code, **values) for code, values in sorted(counties.items())],
        days=[
            DayFigures(
                day=d if isinstance(d, date) else date.fromisoformat(str(d)), slots=n, capacity=c, booked=b
            )
            for d, n, c, b in days
        ],
    )
