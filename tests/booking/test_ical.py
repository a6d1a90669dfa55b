"""The appointment's iCalendar file parses back to what was put in, in China's time with its VTIMEZONE and
a reminder the day before; a cancellation replaces the same entry."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar

from zerotrip.booking.ical import Appointment, calendar_file, filename
from zerotrip.common.clock import CHINA

STAMP = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)
APPOINTMENT = Appointment(
    uid="ZT7K3M9Q@zerotrip.example",
    summary="新冠病毒疫苗 第3剂 · 西湖区北山街道社区卫生服务中心接种门诊",
    starts_at=datetime(2026, 11, 5, 1, 0, tzinfo=UTC),  # 09:00 in Hangzhou
    ends_at=datetime(2026, 11, 5, 1, 30, tzinfo=UTC),
    location="浙江省杭州市西湖区北山街道北山路88号",
    description="请携带身份证原件。预约号 ZT7K3M9Q",
    latitude=30.2612,
    longitude=120.1405,
    url="https://zerotrip.example/booking/my/ZT7K3M9Q",
    reminder="明天 09:00 接种新冠病毒疫苗",
)


def parse(data: bytes) -> Calendar:
    return Calendar.from_ical(data)


def test_the_file_parses_back() -> None:
    data = calendar_file(APPOINTMENT, stamp=STAMP)
    calendar = parse(data)
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["METHOD"]) == "PUBLISH"
    [event] = calendar.walk("VEVENT")
    assert str(event["UID"]) == APPOINTMENT.uid
    assert str(event["SUMMARY"]) == APPOINTMENT.summary
    assert str(event["LOCATION"]) == APPOINTMENT.location
    assert str(event["DESCRIPTION"]) == APPOINTMENT.description
    assert str(event["URL"]) == APPOINTMENT.url
    assert str(event["STATUS"]) == "CONFIRMED"
    assert int(event["SEQUENCE"]) == 0
    start, end = event.decoded("DTSTART"), event.decoded("DTEND")
    assert start == APPOINTMENT.starts_at and end == APPOINTMENT.ends_at
    assert (start.hour, start.minute, str(start.tzinfo)) == (9, 0, "Asia/Shanghai")
    assert event["DTSTART"].params["TZID"] == "Asia/Shanghai"
    assert event.decoded("DTSTAMP") == STAMP
    geo = event["GEO"]
    assert (geo.latitude, geo.longitude) == (30.2612, 120.1405)
    [alarm] = event.walk("VALARM")
    assert str(alarm["ACTION"]) == "DISPLAY"
    assert str(alarm["DESCRIPTION"]) == APPOINTMENT.reminder
    assert alarm.decoded("TRIGGER") == -timedelta(days=1)
    assert alarm["TRIGGER"].params["RELATED"] == "START"
    [zone] = calendar.walk("VTIMEZONE")
    assert str(zone["TZID"]) == "Asia/Shanghai"
    assert calendar.subcomponents[0].name == "VTIMEZONE"


def test_the_text_follows_rfc_5545_lines() -> None:
    data = calendar_file(APPOINTMENT, stamp=STAMP)
    assert data.startswith(b"BEGIN:VCALENDAR\r\n") and data.endswith(b"END:VCALENDAR\r\n")
    lines = data.split(b"\r\n")
    assert all(len(line) <= 75 for line in lines)  # folded at 75 octets (3.1)
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert b"DTSTART;TZID=Asia/Shanghai:20261105T090000" in data
    assert b"DTSTAMP:20261101T020000Z" in data
    data.decode("utf-8")  # folding never splits a character


def test_a_cancellation_replaces_the_entry() -> None:
    cancelled = replace(APPOINTMENT, status="cancelled", sequence=2)
    calendar = parse(calendar_file(cancelled, stamp=STAMP))
    assert str(calendar["METHOD"]) == "CANCEL"
    [event] = calendar.walk("VEVENT")
    assert str(event["UID"]) == APPOINTMENT.uid
    assert str(event["STATUS"]) == "CANCELLED"
    assert int(event["SEQUENCE"]) == 2
    assert not event.walk("VALARM")


def test_times_must_be_aware_and_ordered() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        calendar_file(APPOINTMENT, stamp=datetime(2026, 11, 1, 2, 0))
    backwards = Appointment(
        uid="x@y", summary="s", location="l", starts_at=datetime(2026, 11, 5, 9, tzinfo=CHINA),
        ends_at=datetime(2026, 11, 5, 9, tzinfo=CHINA),
    )  # fmt: skip
    with pytest.raises(ValueError, match="end after"):
        calendar_file(backwards, stamp=STAMP)


def test_filename_is_ascii() -> None:
    assert filename("ZT7K3M9Q") == "booking-ZT7K3M9Q.ics"
    assert filename('../"预约"\r\n') == "booking-appointment.ics"
