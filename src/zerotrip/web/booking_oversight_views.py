"""View-models of the staff's booking pages above a single site: the sites a staff member runs, and the
platform operator's figures (capacity, no-shows, uptake by county, drawn as bars in inline SVG)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.orm import Session

from zerotrip.booking import oversight
from zerotrip.booking.permissions import OPERATOR_ROLE
from zerotrip.common import clock
from zerotrip.common.divisions import find_division
from zerotrip.identity.actor import Actor
from zerotrip.web.page_kit import Pager, pager, percent

DEFAULT_DAYS = 14
PER_PAGE = 50


@dataclass(frozen=True)
class SiteLine:
    code: str
    name: str
    division: str
    address: str
    url: str


@dataclass(frozen=True)
class SitesView:
    sites: tuple[SiteLine, ...]
    total: int
    county: str
    pager: Pager
    is_operator: bool
    can_oversee: bool


def _division_name(code: str) -> str:
    division = find_division(code)
    if division is None:
        return code
    parent = find_division(division.parent_code) if division.parent_code else None
    return f"{parent.name}{division.name}" if parent and division.level == "county" else division.name


def sites(db: Session, actor: Actor, *, county: str = "", page: int = 1) -> SitesView:
    """A page of the sites the staff member runs, optionally in one division."""
    found, total = oversight.list_operated_sites(
        db, actor=actor, division_code=county or None, page=page, per_page=PER_PAGE
    )
    return SitesView(
        sites=tuple(
            SiteLine(
                code=s.code,
                name=s.name,
                division=_division_name(s.division_code),
                address=s.address,
                url=f"/staff/booking/sites/{s.code}",
            )
            for s in found
        ),
        total=total,
        county=county,
        pager=pager("/staff/booking", {"county": county}, page=page, per_page=PER_PAGE, total=total),
        is_operator=any(g.role == OPERATOR_ROLE for g in actor.grants),
        can_oversee=any(g.role == oversight.OVERSEER_ROLE for g in actor.grants),
    )


@dataclass(frozen=True)
class CountyLine:
    code: str
    name: str
    sites: int
    capacity: int
    booked: int
    fill: str
    no_shows: int
    no_show_rate: str
    doses: int
    people: int
    bar: float  # doses as a share of the largest county's, 0–100 (the SVG bar's width)
    fill_bar: float  # seats taken as a share of capacity, 0–100


@dataclass(frozen=True)
class DayLine:
    day: str
    capacity: int
    booked: int
    fill: str
    bar: float


@dataclass(frozen=True)
class OverviewView:
    first_day: str
    last_day: str
    scopes: tuple[str, ...]
    counties: tuple[CountyLine, ...]
    days: tuple[DayLine, ...]
    total_capacity: int
    total_booked: int
    total_no_shows: int
    total_past: int
    total_doses: int
    total_people: int
    fill: str
    no_show_rate: str


def _share(part: int, whole: int) -> float:
    return round(100 * part / whole, 2) if whole else 0.0


def overview(db: Session, actor: Actor, *, first_day: date | None, last_day: date | None) -> OverviewView:
    """The figures from ``first_day`` (default: a week ago) to ``last_day`` (default: a week ahead).
    Raises NotAllowed for anyone but the platform operator."""
    today = clock.now_in_china().date()
    first = first_day or today - timedelta(days=DEFAULT_DAYS // 2)
    last = last_day or today + timedelta(days=DEFAULT_DAYS // 2)
    found = oversight.figures(db, actor=actor, first_day=first, last_day=last, today=today)
    most = max((c.doses for c in found.counties), default=0)
    counties = tuple(
        CountyLine(
            code=c.division_code,
            name=_division_name(c.division_code),
            sites=c.sites,
            capacity=c.capacity,
            booked=c.booked,
            fill=percent(c.booked, c.capacity),
            no_shows=c.no_shows,
            no_show_rate=percent(c.no_shows, c.past_bookings),
            doses=c.doses,
            people=c.people,
            bar=_share(c.doses, most),
            fill_bar=_share(c.booked, c.capacity),
        )
        for c in found.counties
    )
    busiest = max((d.capacity for d in found.days), default=0)
    capacity = sum(c.capacity for c in found.counties)
    booked = sum(c.booked for c in found.counties)
    past = sum(c.past_bookings for c in found.counties)
    missed = sum(c.no_shows for c in found.counties)
    return OverviewView(
        first_day=found.first_day.isoformat(),
        last_day=found.last_day.isoformat(),
        scopes=tuple(_division_name(s) for s in found.scopes),
        counties=counties,
        days=tuple(
            DayLine(
                day=d.day.isoformat(),
                capacity=d.capacity,
                booked=d.booked,
                fill=percent(d.booked, d.capacity),
                bar=_share(d.booked, busiest),
            )
            for d in found.days
        ),
        total_capacity=capacity,
        total_booked=booked,
        total_no_shows=missed,
        total_past=past,
        total_doses=sum(c.doses for c in found.counties),
        total_people=sum(c.people for c in found.counties),
        fill=percent(booked, capacity),
        no_show_rate=percent(missed, past),
    )
