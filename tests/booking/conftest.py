"""Fixtures of the booking tests: the world of ``world.py`` in the test's transaction, on a fixed clock."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from zerotrip.common import clock
from zerotrip.config import Settings

from .world import NOW, BookingWorld, build_world


@pytest.fixture
def fixed_clock() -> Iterator[clock.FrozenClock]:
    with clock.frozen(NOW) as frozen:
        yield frozen


@pytest.fixture
def world(db: Session, settings: Settings, fixed_clock: clock.FrozenClock) -> BookingWorld:
    return build_world(db, settings)
