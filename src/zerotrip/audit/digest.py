"""Pure hashing for audit events: canonical content digests and the Merkle tree over a sealed range."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import orjson

_EVENT_PREFIX = b"zerotrip.audit.event\x00"
# The range of integers orjson writes (beyond it, canonical_json decides).
_INT_MIN, _INT_MAX = -(2**63), 2**64 - 1


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
    return hashlib.sha256(_EVENT_PREFIX + canonical_json(content)).digest()


def is_plain(value: Any) -> bool:
    """Whether ``value`` is JSON made only of strings, booleans, None, integers orjson can write, lists and
    objects with string keys (no floats): ``canonical_json`` gives such a value back unchanged from the
    database, and ``plain_event_digest`` may hash it."""
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return True
    if kind is int:
        return _INT_MIN <= value <= _INT_MAX  # type: ignore[no-any-return]
    if kind is dict:
        return all(type(key) is str and is_plain(item) for key, item in value.items())
    if kind is list:
        return all(is_plain(item) for item in value)
    return False


def plain_event_digest(
    *,
    occurred_at: str,
    actor: str,
    action: str,
    subject_type: str,
    subject_id: str,
    data: dict[str, Any],
    request_id: str | None,
) -> bytes | None:
    """``event_digest`` for ``data`` that ``is_plain``, with ``occurred_at`` already written as UTC
    ISO-8601 with microseconds, for writing many events: orjson with sorted keys writes such content
    byte for byte as ``canonical_json`` does. None when a string cannot be written (a lone surrogate),
    where ``event_digest`` raises."""
    content = {
        "action": action,
        "actor": actor,
        "data": data,
        "occurred_at": occurred_at,
        "request_id": request_id,
        "subject_id": subject_id,
        "subject_type": subject_type,
    }
    try:
        body = orjson.dumps(content, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError:
        return None
    return hashlib.sha256(_EVENT_PREFIX + body).digest()


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
