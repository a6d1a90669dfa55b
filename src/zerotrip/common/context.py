"""Per-request context that the kernel threads through without passing it to every function."""

from __future__ import annotations

from contextvars import ContextVar

request_id: ContextVar[str | None] = ContextVar("zerotrip_request_id", default=None)
