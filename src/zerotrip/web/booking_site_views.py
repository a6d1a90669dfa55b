"""View-models of the pages at the site (接种单位): the sites an operator runs, a day's list with its slots
and bookings, check-in by the booking QR, and recording the vaccination."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import urlencode

from sqlalchemy.orm import Session

from zerotrip.booking import site_queries
from zerotrip.booking.products import find_product
from zerotrip.booking.schemas import DayEntry, SlotRead
from zerotrip.common import clock
from zerotrip.identity.actor import Actor
from zerotrip.web import booking_text as words
from zerotrip.web.booking_views import time_span
from zerotrip.web.datahub_text import ProblemView, Text
from zerotrip.web.i18n import N_
from zerotrip.web.page_kit import china_time

REACTIONS = (("无", N_("None")), ("一般反应", N_("Common reaction")), ("异常反应", N_("Adverse reaction")))
NOTICES = {
    "checked_in": N_("%(name)s is checked in (booking %(ref)s)."),
    "recorded": N_(
        "The dose of booking %(ref)s is recorded; the vaccination record and the certificate follow."
    ),
}


@dataclass(frozen=True)
class SlotLine:
    time: str
    product_name: str
    product_name_en: str
    capacity: int
    booked: int
    is_closed: bool


@dataclass(frozen=True)
class EntryLine:
    number: str
    status: str
    status_label: str
    tone: str
    name: str
    resident_id_masked: str
    product_name: str
    product_name_en: str
    dose: int
    is_vaccine: bool
    time: str
    checked_in_at: str
    completed_at: str
    can_record: bool


@dataclass(frozen=True)
class DayView:
    site_code: str
    site_name: str
    day: str
    weekday: str
    is_today: bool
    previous_url: str
    next_url: str
    today_url: str
    slots: tuple[SlotLine, ...]
    entries: tuple[EntryLine, ...]
    counts: dict[str, int]
    reactions: tuple[tuple[str, str], ...]
    notice: Text | None
    problem: ProblemView | None


def _slot_line(slot: SlotRead) -> SlotLine:
    product = find_product(slot.product_code)
    return SlotLine(
        time=time_span(slot.starts_at, slot.ends_at),
        product_name=product.name if product else slot.product_code,
        product_name_en=product.name_en if product else slot.product_code,
        capacity=slot.capacity,
        booked=slot.booked,
        is_closed=slot.status != "open",
    )


def _entry_line(entry: DayEntry) -> EntryLine:
    product = find_product(entry.product_code)
    is_vaccine = bool(product and product.is_vaccine)
    return EntryLine(
        number=entry.number,
        status=entry.status,
        status_label=words.STATUS_LABELS.get(entry.status, entry.status),
        tone=words.STATUS_TONES.get(entry.status, ""),
        name=entry.name,
        resident_id_masked=entry.resident_id_masked,
        product_name=product.name if product else entry.product_code,
        product_name_en=product.name_en if product else entry.product_code,
        dose=entry.dose,
        is_vaccine=is_vaccine,
        time=entry.starts_at.astimezone(clock.CHINA).strftime("%H:%M"),
        checked_in_at=china_time(entry.checked_in_at),
        completed_at=china_time(entry.completed_at),
        can_record=is_vaccine and entry.status == "checked_in",
    )


def day_url(code: str, day: date, **extra: str) -> str:
    return f"/staff/booking/sites/{code}?" + urlencode({"day": day.isoformat(), **extra})


def day_list(
    db: Session,
    actor: Actor,
    code: str,
    day: date | None,
    *,
    done: str = "",
    ref: str = "",
    problem: ProblemView | None = None,
) -> DayView:
    """A site's day (today by default) for its operators; ``done`` and ``ref`` say what a form just did to
    which booking. Raises SiteNotFound, NotSiteOperator."""
    today = clock.now_in_china().date()
    shown = day or today
    found = site_queries.day_list(db, actor=actor, site_code=code, day=shown)
    counts = Counter(e.status for e in found.entries)
    entries = tuple(_entry_line(e) for e in found.entries)
    return DayView(
        site_code=found.site_code,
        site_name=found.site_name,
        day=shown.isoformat(),
        weekday=words.WEEKDAY_LABELS[shown.weekday()],
        is_today=shown == today,
        previous_url=day_url(code, shown - timedelta(days=1)),
        next_url=day_url(code, shown + timedelta(days=1)),
        today_url=day_url(code, today),
        slots=tuple(_slot_line(s) for s in found.slots),
        entries=entries,
        counts={k: counts.get(k, 0) for k in ("booked", "checked_in", "completed", "no_show")},
        reactions=REACTIONS,
        notice=_notice(done, ref, entries),
        problem=problem,
    )


def _notice(done: str, ref: str, entries: tuple[EntryLine, ...]) -> Text | None:
    """What the form did, naming the person from the day's list (a name never travels in the URL)."""
    msgid = NOTICES.get(done)
    entry = next((e for e in entries if e.number == ref), None)
    if msgid is None or entry is None:
        return None
    return Text(msgid, {"ref": entry.number, "name": entry.name})
