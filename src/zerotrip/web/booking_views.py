"""View-models of the booking pages anyone may open, and of confirming a booking: searching sites near a
place or in a county, a site's opening hours and free slots, and the slot about to be booked."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import urlencode

from sqlalchemy.orm import Session

from zerotrip.booking import people_queries, queries
from zerotrip.booking.errors import SlotNotFound
from zerotrip.booking.products import PRODUCTS, find_product
from zerotrip.booking.schemas import PersonChoice, SiteRead, SlotRead
from zerotrip.common import clock
from zerotrip.common.divisions import children_of, cities, find_division
from zerotrip.config import BookingSettings
from zerotrip.identity.actor import Actor
from zerotrip.web import booking_text as words
from zerotrip.web.datahub_text import ProblemView
from zerotrip.web.page_kit import Pager, pager
from zerotrip.web.views import mask_resident_id

PER_PAGE = 10


@dataclass(frozen=True)
class Option:
    value: str
    label: str
    label_en: str
    is_selected: bool


@dataclass(frozen=True)
class OptionGroup:
    label: str
    label_en: str
    options: tuple[Option, ...]


@dataclass(frozen=True)
class SlotView:
    id: int
    day: str
    weekday: str  # an English msgid
    time: str  # 09:00–09:30 in China time
    free: int
    capacity: int
    product_name: str
    product_name_en: str
    is_full: bool
    url: str  # where booking it (or moving a booking to it) starts


@dataclass(frozen=True)
class SiteCard:
    code: str
    name: str
    address: str
    division: str
    distance: str | None
    products: tuple[tuple[str, str], ...]  # (Chinese, English) names
    next_free: tuple[SlotView, ...]
    url: str


@dataclass(frozen=True)
class SearchView:
    county: str
    near: str
    product: str
    day: str
    places: tuple[OptionGroup, ...]
    products: tuple[Option, ...]
    results: tuple[SiteCard, ...]
    total: int
    pager: Pager
    is_search: bool  # a search was made (else the page shows only the form)
    place_label: str | None
    reschedule: str | None
    problem: ProblemView | None


def time_span(starts_at: datetime, ends_at: datetime) -> str:
    start, end = starts_at.astimezone(clock.CHINA), ends_at.astimezone(clock.CHINA)
    return f"{start:%H:%M}–{end:%H:%M}"


def slot_view(slot: SlotRead, *, site_code: str, reschedule: str | None = None) -> SlotView:
    product = find_product(slot.product_code)
    url = f"/booking/sites/{site_code}/slots/{slot.id}"
    if reschedule:
        url += "?" + urlencode({"reschedule": reschedule})
    return SlotView(
        id=slot.id,
        day=slot.day.isoformat(),
        weekday=words.WEEKDAY_LABELS[slot.day.weekday()],
        time=time_span(slot.starts_at, slot.ends_at),
        free=slot.free,
        capacity=slot.capacity,
        product_name=product.name if product else slot.product_code,
        product_name_en=product.name_en if product else slot.product_code,
        is_full=slot.free <= 0 or slot.status != "open",
        url=url,
    )


def _places(selected: str) -> tuple[OptionGroup, ...]:
    groups = []
    for city in cities():
        options = [Option(city.code, f"{city.name}（全市）", city.name, city.code == selected)]
        options += [Option(d.code, d.name, d.name, d.code == selected) for d in children_of(city.code)]
        groups.append(OptionGroup(city.name, city.name, tuple(options)))
    return tuple(groups)


def product_options(selected: str, *, vaccines_first: bool = True) -> tuple[Option, ...]:
    ordered = sorted(PRODUCTS, key=lambda p: (not p.is_vaccine, 0)) if vaccines_first else list(PRODUCTS)
    return tuple(Option(p.code, p.name, p.name_en, p.code == selected) for p in ordered)


def site_url(code: str, *, product: str = "", reschedule: str | None = None) -> str:
    params = {k: v for k, v in (("product", product), ("reschedule", reschedule or "")) if v}
    return f"/booking/sites/{code}" + (f"?{urlencode(params)}" if params else "")


def _card(site: SiteRead, *, product: str, reschedule: str | None) -> SiteCard:
    division = find_division(site.division_code)
    return SiteCard(
        code=site.code,
        name=site.name,
        address=site.address,
        division=division.name if division else site.division_code,
        distance=f"{site.distance_km:.1f}" if site.distance_km is not None else None,
        products=tuple((s.name, s.name_en) for s in site.services),
        next_free=tuple(slot_view(s, site_code=site.code, reschedule=reschedule) for s in site.next_free),
        url=site_url(site.code, product=product, reschedule=reschedule),
    )


def search(
    db: Session,
    *,
    county: str,
    near: str,
    product: str,
    day: date | None,
    page: int,
    reschedule: str | None,
) -> SearchView:
    """Sites in a county and/or near a place, offering a product, with their next free slots. Raises
    ValidationFailed (an unknown place or product), which the page shows above the form."""
    is_search = bool(county or near or product or day)
    results: tuple[SiteCard, ...] = ()
    total = 0
    place_label = None
    if is_search:
        found = queries.search_sites(
            db,
            near=near or None,
            division_code=county or None,
            product_code=product or None,
            day=day,
            page=page,
            per_page=PER_PAGE,
        )
        results = tuple(_card(s, product=product, reschedule=reschedule) for s in found.items)
        total = found.total
        division = find_division(near or county) if (near or county) else None
        place_label = division.name if division else (near or None)
    params = {"county": county, "near": near, "product": product, "day": day.isoformat() if day else ""}
    if reschedule:
        params["reschedule"] = reschedule
    return SearchView(
        county=county,
        near=near,
        product=product,
        day=day.isoformat() if day else "",
        places=_places(county),
        products=product_options(product),
        results=results,
        total=total,
        pager=pager("/booking", params, page=page, per_page=PER_PAGE, total=total),
        is_search=is_search,
        place_label=place_label,
        reschedule=reschedule,
        problem=None,
    )


def empty_search(problem: ProblemView, *, county: str, near: str, product: str, day: str) -> SearchView:
    return SearchView(
        county=county,
        near=near,
        product=product,
        day=day,
        places=_places(county),
        products=product_options(product),
        results=(),
        total=0,
        pager=pager("/booking", {}, page=1, per_page=PER_PAGE, total=0),
        is_search=False,
        place_label=None,
        reschedule=None,
        problem=problem,
    )


# -- a site and its slots ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HoursRow:
    weekday: str  # an English msgid
    periods: str  # 08:00–11:30, 13:30–16:30; "" when closed


@dataclass(frozen=True)
class DayColumn:
    day: str
    weekday: str
    slots: tuple[SlotView, ...]


@dataclass(frozen=True)
class SiteView:
    code: str
    name: str
    address: str
    phone: str | None
    division: str
    latitude: float
    longitude: float
    hours: tuple[HoursRow, ...]
    products: tuple[Option, ...]
    product: str
    days: tuple[DayColumn, ...]
    reschedule: str | None


def site(
    db: Session, code: str, *, product: str, settings: BookingSettings, reschedule: str | None
) -> SiteView:
    """A site, its opening hours and its slots over the days that may be booked. Raises SiteNotFound."""
    found = queries.get_site(db, code)
    today = clock.now_in_china().date()
    last = today + timedelta(days=settings.days_ahead - 1)
    offered = {s.product_code for s in found.services}
    chosen = product if product in offered else ""
    slots = queries.list_slots(
        db, site_code=code, product_code=chosen or None, first_day=today, last_day=last
    )
    now = clock.now()
    by_day: dict[date, list[SlotView]] = {}
    for slot in slots:
        if slot.starts_at > now and slot.status == "open":
            by_day.setdefault(slot.day, []).append(slot_view(slot, site_code=code, reschedule=reschedule))
    division = find_division(found.division_code)
    hours = tuple(
        HoursRow(
            weekday=words.WEEKDAY_LABELS[i],
            periods=", ".join(f"{a}–{b}" for a, b in found.opening_hours.get(key, [])),
        )
        for i, key in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun"))
    )
    return SiteView(
        code=found.code,
        name=found.name,
        address=found.address,
        phone=found.phone,
        division=division.name if division else found.division_code,
        latitude=found.latitude,
        longitude=found.longitude,
        hours=hours,
        products=tuple(
            Option(s.product_code, s.name, s.name_en, s.product_code == chosen) for s in found.services
        ),
        product=chosen,
        days=tuple(
            DayColumn(day=d.isoformat(), weekday=words.WEEKDAY_LABELS[d.weekday()], slots=tuple(v))
            for d, v in sorted(by_day.items())
        ),
        reschedule=reschedule,
    )


# -- confirming a booking ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PersonOption:
    resident_id: str
    masked_resident_id: str
    name: str
    relation: str  # an English msgid
    has_profile: bool
    is_selected: bool


@dataclass(frozen=True)
class ConfirmView:
    slot: SlotView
    site_code: str
    site_name: str
    site_address: str
    people: tuple[PersonOption, ...]
    has_profile: bool  # at least one person may be booked now
    idempotency_key: str
    reschedule: str | None  # the booking being moved here
    offer_waitlist: bool
    problem: ProblemView | None


def person_options(choices: list[PersonChoice], selected: str | None = None) -> tuple[PersonOption, ...]:
    first = next((c.resident_id for c in choices if c.profile is not None), None)
    chosen = selected if selected in {c.resident_id for c in choices} else first
    return tuple(
        PersonOption(
            resident_id=c.resident_id,
            masked_resident_id=mask_resident_id(c.resident_id),
            name=c.name,
            relation=words.RELATION_LABELS[c.relation],
            has_profile=c.profile is not None,
            is_selected=c.resident_id == chosen,
        )
        for c in choices
    )


def find_slot(db: Session, site_code: str, slot_id: int, settings: BookingSettings) -> SlotRead:
    """A slot of the site among those that may still be booked. Raises SiteNotFound, SlotNotFound."""
    today = clock.now_in_china().date()
    slots = queries.list_slots(
        db, site_code=site_code, first_day=today, last_day=today + timedelta(days=settings.days_ahead - 1)
    )
    slot = next((s for s in slots if s.id == slot_id), None)
    if slot is None:
        raise SlotNotFound()
    return slot


def confirm(
    db: Session,
    actor: Actor,
    site_code: str,
    slot_id: int,
    *,
    settings: BookingSettings,
    reschedule: str | None,
    selected: str | None = None,
    key: str | None = None,
    problem: ProblemView | None = None,
    offer_waitlist: bool = False,
) -> ConfirmView:
    """The slot about to be booked and whom for. Raises SiteNotFound, SlotNotFound, BookingNotAllowed."""
    found = queries.get_site(db, site_code)
    slot = find_slot(db, site_code, slot_id, settings)
    people = person_options(people_queries.list_people(db, actor=actor), selected)
    return ConfirmView(
        slot=slot_view(slot, site_code=found.code),
        site_code=found.code,
        site_name=found.name,
        site_address=found.address,
        people=people,
        has_profile=any(p.has_profile for p in people),
        # A new key per rendering: pressing the button twice, or retrying after a lost answer, books once.
        idempotency_key=key or uuid.uuid4().hex,
        reschedule=reschedule,
        offer_waitlist=offer_waitlist,
        problem=problem,
    )
