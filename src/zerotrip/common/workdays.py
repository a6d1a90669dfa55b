"""Working days (工作日): the unit of every statutory time limit (sharing and objections in datahub, the
services workflow's deadlines). Pure.

Saturdays and Sundays are not working days, nor are the configured public holidays; a configured
make-up day (调休, a Saturday or Sunday worked in exchange for a longer holiday) is one. A deadline of
*n* working days falls at the end of the *n*-th working day after the day something arrived, in China time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from zerotrip.common.clock import CHINA

# A run of non-working days longer than this means the calendar is misconfigured (and would loop forever).
_MAX_GAP_DAYS = 60


@dataclass(frozen=True)
class WorkCalendar:
    holidays: frozenset[date] = field(default_factory=frozenset)
    working_weekend_days: frozenset[date] = field(default_factory=frozenset)

    @classmethod
    def of(cls, *, holidays: Iterable[date] = (), working_weekend_days: Iterable[date] = ()) -> WorkCalendar:
        return cls(frozenset(holidays), frozenset(working_weekend_days))

    def is_working_day(self, day: date) -> bool:
        if day in self.working_weekend_days:
            return True
        return day.weekday() < 5 and day not in self.holidays

    def add_working_days(self, start: date, days: int) -> date:
        """The ``days``-th working day after ``start`` (``start`` itself never counts); 0 gives ``start``."""
        if days < 0:
            raise ValueError("days must not be negative")
        day = start
        remaining = days
        gap = 0
        while remaining > 0:
            day += timedelta(days=1)
            if self.is_working_day(day):
                remaining -= 1
                gap = 0
            else:
                gap += 1
                if gap > _MAX_GAP_DAYS:
                    raise ValueError("the calendar has no working day for more than 60 days")
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """How many working days lie after ``start`` up to and including ``end`` (0 when end <= start)."""
        count = 0
        day = start
        while day < end:
            day += timedelta(days=1)
            if self.is_working_day(day):
                count += 1
        return count

    def deadline(self, received_at: datetime, working_days: int) -> datetime:
        """The instant a time limit of ``working_days`` runs out for something received at ``received_at``:
        midnight (China time) after the last working day, returned in the same zone as ``received_at``."""
        if received_at.tzinfo is None:
            raise ValueError("received_at must be timezone-aware")
        local_day = received_at.astimezone(CHINA).date()
        last = self.add_working_days(local_day, working_days)
        end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=CHINA)
        return end.astimezone(received_at.tzinfo)

    def extend(self, deadline: datetime, working_days: int) -> datetime:
        """A deadline made by ``deadline`` moved ``working_days`` working days later (a paused clock):
        midnight (China time) after the working day that many working days after its last day."""
        if deadline.tzinfo is None:
            raise ValueError("deadline must be timezone-aware")
        last = deadline.astimezone(CHINA).date() - timedelta(days=1)
        end = datetime.combine(self.add_working_days(last, working_days) + timedelta(days=1), time.min, CHINA)
        return end.astimezone(deadline.tzinfo) if working_days else deadline


WEEKENDS_ONLY = WorkCalendar()
