"""Working days (a pure calendar shared by datahub's and services' deadlines), with properties."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zerotrip.common.clock import CHINA
from zerotrip.common.workdays import WEEKENDS_ONLY, WorkCalendar

# 2024's National Day week, with its two make-up working days (调休).
NATIONAL_DAY = WorkCalendar.of(
    holidays=[date(2024, 10, d) for d in range(1, 8)],
    working_weekend_days=[date(2024, 9, 29), date(2024, 10, 12)],
)

days = st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31))
calendars = st.builds(
    WorkCalendar.of,
    holidays=st.frozensets(st.dates(min_value=date(2024, 1, 1), max_value=date(2025, 12, 31)), max_size=20),
    working_weekend_days=st.frozensets(
        st.dates(min_value=date(2024, 1, 1), max_value=date(2025, 12, 31)).filter(lambda d: d.weekday() >= 5),
        max_size=5,
    ),
)


def test_weekends_are_skipped() -> None:
    friday = date(2024, 6, 7)
    assert WEEKENDS_ONLY.add_working_days(friday, 1) == date(2024, 6, 10)
    assert WEEKENDS_ONLY.add_working_days(date(2024, 6, 3), 5) == date(2024, 6, 10)
    assert WEEKENDS_ONLY.add_working_days(date(2024, 6, 8), 1) == date(2024, 6, 10)  # from a Saturday
    assert WEEKENDS_ONLY.add_working_days(friday, 0) == friday


def test_holidays_and_make_up_days() -> None:
    assert NATIONAL_DAY.is_working_day(date(2024, 9, 29))  # a Sunday worked
    assert not NATIONAL_DAY.is_working_day(date(2024, 10, 2))
    assert NATIONAL_DAY.add_working_days(date(2024, 9, 28), 1) == date(2024, 9, 29)
    assert NATIONAL_DAY.add_working_days(date(2024, 9, 30), 1) == date(2024, 10, 8)
    assert NATIONAL_DAY.working_days_between(date(2024, 9, 27), date(2024, 10, 12)) == 7


def test_deadline_is_midnight_china_time_after_the_last_working_day() -> None:
    friday_afternoon = datetime(2024, 6, 7, 15, 0, tzinfo=CHINA).astimezone(UTC)
    assert WEEKENDS_ONLY.deadline(friday_afternoon, 5) == datetime(2024, 6, 15, tzinfo=CHINA)
    # 01:00 on Saturday in Hangzhou is still Friday in UTC: the China date decides.
    saturday_night = datetime(2024, 6, 7, 17, 0, tzinfo=UTC)
    assert WEEKENDS_ONLY.deadline(saturday_night, 1) == datetime(2024, 6, 11, tzinfo=CHINA)
    with pytest.raises(ValueError):
        WEEKENDS_ONLY.deadline(datetime(2024, 6, 7), 1)  # naive: refused


def test_a_calendar_without_working_days_is_refused() -> None:
    start = date(2024, 1, 1)
    closed = WorkCalendar.of(holidays=[start + timedelta(days=i) for i in range(1, 100)])
    with pytest.raises(ValueError):
        closed.add_working_days(start, 1)
    with pytest.raises(ValueError):
        WEEKENDS_ONLY.add_working_days(start, -1)


@given(start=days, n=st.integers(min_value=0, max_value=60))
def test_adding_n_working_days_passes_exactly_n_of_them(start: date, n: int) -> None:
    end = WEEKENDS_ONLY.add_working_days(start, n)
    assert WEEKENDS_ONLY.working_days_between(start, end) == n
    if n:
        assert end > start and end.weekday() < 5
    # Five working days are one calendar week, give or take the weekend the count starts in.
    assert (end - start).days <= n + 2 * (n // 5 + 1)


@given(
    calendar=calendars,
    start=st.dates(min_value=date(2024, 1, 1), max_value=date(2025, 6, 30)),
    n=st.integers(0, 30),
)
def test_the_next_deadline_is_the_next_working_day(calendar: WorkCalendar, start: date, n: int) -> None:
    this = calendar.add_working_days(start, n)
    following = calendar.add_working_days(start, n + 1)
    assert calendar.is_working_day(following)
    assert following > this
    between = [this + timedelta(days=i) for i in range(1, (following - this).days)]
    assert not any(calendar.is_working_day(d) for d in between)


@given(
    at=st.datetimes(min_value=datetime(2001, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC)),
    n=st.integers(1, 20),
)
def test_a_deadline_is_a_china_midnight_after_the_arrival(at: datetime, n: int) -> None:
    due = WEEKENDS_ONLY.deadline(at, n)
    local = due.astimezone(CHINA)
    assert (local.hour, local.minute, local.second) == (0, 0, 0)
    assert due > at
    assert (
        WEEKENDS_ONLY.working_days_between(at.astimezone(CHINA).date(), local.date() - timedelta(days=1)) == n
    )


def test_a_deadline_extended_by_paused_working_days() -> None:
    due = WEEKENDS_ONLY.deadline(datetime(2024, 6, 3, 9, 0, tzinfo=CHINA), 5)  # Monday + 5: the next Monday
    assert due == datetime(2024, 6, 11, tzinfo=CHINA)
    assert WEEKENDS_ONLY.extend(due, 0) == due
    assert WEEKENDS_ONLY.extend(due, 1) == datetime(2024, 6, 12, tzinfo=CHINA)
    assert WEEKENDS_ONLY.extend(due, 4) == datetime(2024, 6, 15, tzinfo=CHINA)  # Friday's end
    assert WEEKENDS_ONLY.extend(due, 5) == datetime(2024, 6, 18, tzinfo=CHINA)  # over the weekend
    assert NATIONAL_DAY.extend(datetime(2024, 10, 1, tzinfo=CHINA), 1) == datetime(2024, 10, 9, tzinfo=CHINA)


@given(
    calendar=calendars,
    at=st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2025, 6, 1), timezones=st.just(UTC)),
    n=st.integers(0, 20),
    more=st.integers(0, 20),
)
def test_extending_a_deadline_is_counting_further(
    calendar: WorkCalendar, at: datetime, n: int, more: int
) -> None:
    # n working days, then ``more`` working days, are n + more working days at once.
    assert calendar.extend(calendar.deadline(at, n), more) == calendar.deadline(at, n + more)
