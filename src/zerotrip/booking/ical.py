"""An appointment as an iCalendar file (RFC 5545), so it lands in the resident's own calendar. Pure.

One VEVENT in local time (``TZID=Asia/Shanghai``, with the VTIMEZONE the RFC asks for), a UID that stays
the same for the booking's whole life so a calendar replaces the entry when it is rescheduled (a higher
SEQUENCE) or cancelled (``METHOD:CANCEL``, ``STATUS:CANCELLED``), the site's address and coordinates, and
a VALARM that reminds the day before the start.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from icalendar import Alarm, Calendar, Event, vGeo

from zerotrip.common.clock import CHINA

PRODID = "-//zerotrip//booking//ZH"
MEDIA_TYPE = "text/calendar; charset=utf-8"
REMINDER_BEFORE = timedelta(days=1)

Status = Literal["confirmed", "cancelled"]


@dataclass(frozen=True, slots=True)
class Appointment:
    """What the calendar entry says; times are timezone-aware instants (shown in China's time)."""

    uid: str
    """Globally unique and stable for the booking, e.g. ``<booking number>@<host>``."""
    summary: str
    starts_at: datetime
    ends_at: datetime
    location: str
    description: str = ""
    latitude: float | None = None
    longitude: float | None = None
    url: str | None = None
    sequence: int = 0
    """Raised by one on every change (a reschedule), so calendars take the newer version."""
    status: Status = "confirmed"
    reminder: str = ""
    """The alarm's text; the summary when empty."""


def calendar_file(appointment: Appointment, *, stamp: datetime) -> bytes:
    """The .ics file for ``appointment``; ``stamp`` (DTSTAMP, the caller's clock) is when it was made.

    Raises ValueError for naive times or an end not after the start.
    """
    for value in (appointment.starts_at, appointment.ends_at, stamp):
        if value.tzinfo is None:
            raise ValueError("calendar times must be timezone-aware")
    if appointment.ends_at <= appointment.starts_at:
        raise ValueError("an appointment must end after it starts")

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "CANCEL" if appointment.status == "cancelled" else "PUBLISH")

    event = Event()
    event.add("uid", appointment.uid)
    event.add("dtstamp", stamp.astimezone(UTC))  # RFC 5545 3.8.7.2: DTSTAMP is in UTC
    event.add("dtstart", appointment.starts_at.astimezone(CHINA))
    event.add("dtend", appointment.ends_at.astimezone(CHINA))
    event.add("summary", appointment.summary)
    event.add("location", appointment.location)
    if appointment.description:
        event.add("description", appointment.description)
    if appointment.latitude is not None and appointment.longitude is not None:
        event.add("geo", vGeo((appointment.latitude, appointment.longitude)))
    if appointment.url:
        event.add("url", appointment.url)
    event.add("sequence", appointment.sequence)
    event.add("status", appointment.status.upper())
    event.add("transp", "OPAQUE")

    if appointment.status == "confirmed":
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", appointment.reminder or appointment.summary)
        alarm.add("trigger", -REMINDER_BEFORE, parameters={"RELATED": "START"})
        event.add_component(alarm)

    calendar.add_component(event)
    calendar.add_missing_timezones()
    # Definitions before use: some calendar apps read the VTIMEZONE only if it comes first.
    calendar.subcomponents.sort(key=lambda component: component.name != "VTIMEZONE")
    return calendar.to_ical()


def filename(number: str) -> str:
    """The download's file name for booking ``number``: ASCII only, safe in a header."""
    safe = "".join(c for c in number if c.isascii() and (c.isalnum() or c in "-_"))
    return f"booking-{safe or 'appointment'}.ics"
