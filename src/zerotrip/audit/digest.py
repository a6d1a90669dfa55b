"""Pure hashing for audit events: canonical content digests and the Merkle tree over a sealed range."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any


def _integral_floats_as_ints(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        # The decimal the float is written as (its repr), which is what jsonb keeps, not its binary value.
        return int(Decimal(repr(value)))
    if isinstance(value, dict):
        return {key: _integral_floats_as_ints(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_integral_floats_as_ints(item) for item in value]
    return value


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no spaces, UTF-8; whole-number floats are written as integers.

    PostgreSQL's jsonb keeps numbers as decimals and gives 1e20 back as the integer 100000000000000000000;
    digests of what was written must match digests of what is read back.
    """
    return json.dumps(
        _integral_floats_as_ints(value),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    ).encode()


def event_digest(
    *,
    occurred_at: datetime,
    actor: str,
    action: str,
    subject_type: str,
    subject_id: str,
    data: dict[str, Any],
    request_id: str | None,
) -> bytes:
    """SHA-256 over the event's content (not its id, which the database assigns later).

    The instant is hashed in UTC, which is how the database gives it back whatever zone it was written in.
    """
    content = {
        "occurred_at": occurred_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor": actor,
        "action": action,
        "subject_type": subject_type,
        "subject_id": subject_id,
        "data": data,
        "request_id": request_id,
    }
    return hashlib.sha256(b"zerotrip.audit.event\x00" + canonical_json(content)).digest()


def leaf(event_id: int, digest: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + event_id.to_bytes(8, "big") + digest).digest()


def merkle_root(leaves: list[bytes]) -> bytes:
    """RFC 6962-style root: leaves are already hashed; interior nodes are H(0x01 || left || right)."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    level = list(leaves)
    while len(level) > 1:
        nxt = []
        for i in range(0, len(level) - 1, 2):
            nxt.append(hashlib.sha256(b"\x01" + level[i] + level[i + 1]).digest())
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]
