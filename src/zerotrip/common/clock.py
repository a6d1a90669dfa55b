"""The platform's clock: timezone-aware UTC, overridable so time-dependent rules test deterministically."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")

_frozen: ContextVar[datetime | None] = ContextVar("zerotrip_frozen_now", default=None)


def now() -> datetime:
    """The current instant in UTC, or the frozen instant inside ``frozen()``."""
    frozen = _frozen.get()
    return frozen if frozen is not None else datetime.now(UTC)


def now_in_china() -> datetime:
    return now().astimezone(CHINA)


@contextmanager
def frozen(at: datetime) -> Iterator[FrozenClock]:
    """Freeze ``now()`` at ``at`` (which must be timezone-aware) until the block ends."""
    if at.tzinfo is None:
        raise ValueError("a frozen instant must be timezone-aware")
    token = _frozen.set(at)
    try:
        yield FrozenClock(at)
    finally:
        _frozen.reset(token)


class FrozenClock:
    """Handle on a frozen clock; ``advance`` moves it forward inside the same ``frozen()`` block."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def advance(self, delta: timedelta) -> None:
        self.at = self.at + delta
        _frozen.set(self.at)
