"""Public numbers and the gateway's rate limit: pure rules."""

from __future__ import annotations

import re

import pytest

from zerotrip.datahub.numbers import ALPHABET, new_number, normalise_number
from zerotrip.datahub.ratelimit import SlidingWindowLimiter


def test_public_numbers_are_unambiguous_and_unguessable() -> None:
    numbers = {new_number("SR") for _ in range(2000)}
    assert len(numbers) == 2000
    assert all(re.fullmatch(r"SR[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{10}", n) for n in numbers)
    assert not set("01OIL") & set(ALPHABET)
    assert normalise_number(" sr2345 6789ab ") == "SR23456789AB"


def test_sliding_window_limits_per_key_and_says_how_long_to_wait() -> None:
    now = [1000.0]
    limiter = SlidingWindowLimiter(2, window_seconds=60, monotonic=lambda: now[0])
    assert limiter.hit("a") is None
    now[0] += 10
    assert limiter.hit("a") is None
    assert limiter.hit("b") is None  # another client has its own window
    now[0] += 5
    assert limiter.hit("a") == 45  # the first call leaves the window 60 s after it was made
    now[0] += 45
    assert limiter.hit("a") is None
    assert limiter.hit("a") == 10
    with pytest.raises(ValueError):
        SlidingWindowLimiter(0)
