"""Audit problems (RFC 9457), each with a stable slug documented in docs/problems.md."""

from __future__ import annotations

from zerotrip.problems import Conflict


class AuditTampered(Conflict):
    """An event's content no longer matches the digest written with it, so its range cannot be sealed.

    The ``event_id`` extension names the first such event; ``zerotrip audit verify`` gives the full picture.
    """

    slug = "audit/tampered"
    title = "The audit log has been changed outside the platform"
    status = 409
