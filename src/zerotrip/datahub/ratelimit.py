"""A sliding-window rate limit for gateway calls, per API client.

The window lives in the memory of one worker process: with N workers behind a load balancer a client may
make up to N times the configured rate. That is deliberate (no shared state, no extra service); put a limit
at the load balancer if the platform-wide figure must be exact.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable


class SlidingWindowLimiter:
    """At most ``limit`` hits per key in any ``window_seconds``-long stretch of time."""

    def __init__(
        self, limit: int, *, window_seconds: float = 60.0, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.limit = limit
        self.window = window_seconds
        self._monotonic = monotonic
        self._hits: dict[str, deque[float]] = {}
        # FastAPI runs sync routes in a thread pool, so several threads may hit the same client's window.
        self._lock = threading.Lock()

    def hit(self, key: str) -> int | None:
        """Count one call for ``key``. Returns None when it is allowed, else the whole seconds to wait
        before the oldest call in the window falls out of it (the call is then not counted)."""
        now = self._monotonic()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return max(1, math.ceil(hits[0] + self.window - now))
            hits.append(now)
            return None
