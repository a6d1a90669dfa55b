"""Properties of the pure hashing behind checkpoints: event digests, leaves and the Merkle root."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from zerotrip.audit.digest import (
    canonical_json,
    event_digest,
    is_plain,
    leaf,
    merkle_root,
    plain_event_digest,
)
from zerotrip.common.clock import CHINA

digests = st.binary(min_size=32, max_size=32)
leaf_lists = st.lists(digests, min_size=1, max_size=70, unique=True)


def reference_root(leaves: list[bytes]) -> bytes:
    """RFC 6962 section 2.1, written the way the RFC states it: split at the largest power of two below n."""
    if len(leaves) == 1:
        return leaves[0]
    split = 1 << ((len(leaves) - 1).bit_length() - 1)
    return hashlib.sha256(b"\x01" + reference_root(leaves[:split]) + reference_root(leaves[split:])).digest()


@given(leaf_lists)
def test_root_matches_rfc_6962(leaves: list[bytes]) -> None:
    assert merkle_root(leaves) == reference_root(leaves)


def test_root_of_nothing_and_of_one_leaf() -> None:
    assert merkle_root([]) == hashlib.sha256(b"").digest()
    only = leaf(1, bytes(32))
    assert merkle_root([only]) == only


@given(leaf_lists, st.data())
def test_changing_any_leaf_changes_the_root(leaves: list[bytes], data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(leaves) - 1))
    replacement = data.draw(digests.filter(lambda d: d != leaves[index]))
    changed = [*leaves[:index], replacement, *leaves[index + 1 :]]
    assert merkle_root(changed) != merkle_root(leaves)


@given(leaf_lists, st.data())
def test_dropping_or_reordering_leaves_changes_the_root(leaves: list[bytes], data: st.DataObject) -> None:
    root = merkle_root(leaves)
    index = data.draw(st.integers(0, len(leaves) - 1))
    if len(leaves) > 1:
        assert merkle_root(leaves[:index] + leaves[index + 1 :]) != root
        other = data.draw(st.integers(0, len(leaves) - 1).filter(lambda i: i != index))
        swapped = list(leaves)
        swapped[index], swapped[other] = swapped[other], swapped[index]
        assert merkle_root(swapped) != root


@given(st.integers(1, 2**62), st.integers(1, 2**62), digests)
def test_a_leaf_binds_the_event_id(first: int, second: int, digest: bytes) -> None:
    assert (leaf(first, digest) == leaf(second, digest)) == (first == second)


CONTENT: dict[str, Any] = {
    "occurred_at": datetime(2026, 3, 1, 9, 0, 0, 123456, tzinfo=UTC),
    "actor": "staff:1",
    "action": "identity.person.read",
    "subject_type": "person",
    "subject_id": "p1",
    "data": {"fields": ["name"], "purpose": "住房公积金提取"},
    "request_id": None,
}


@given(st.sampled_from(sorted(CONTENT)), st.text(min_size=1, max_size=10))
def test_every_field_is_in_the_event_digest(field: str, noise: str) -> None:
    changed = dict(CONTENT)
    if field == "occurred_at":
        changed[field] = CONTENT[field] + timedelta(microseconds=1)
    elif field == "data":
        changed[field] = {**CONTENT["data"], "extra": noise}
    else:
        changed[field] = f"{CONTENT[field]}{noise}"
    assert event_digest(**changed) != event_digest(**CONTENT)


def test_event_digest_depends_on_the_instant_not_its_zone() -> None:
    # The database hands timestamps back in UTC, so a digest taken in China time must still match.
    in_china = {**CONTENT, "occurred_at": CONTENT["occurred_at"].astimezone(CHINA)}
    assert event_digest(**in_china) == event_digest(**CONTENT)


def test_event_digest_ignores_key_order_in_data() -> None:
    reordered = {**CONTENT, "data": {"purpose": "住房公积金提取", "fields": ["name"]}}
    assert event_digest(**reordered) == event_digest(**CONTENT)


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_numbers_survive_a_jsonb_round_trip(number: float) -> None:
    # jsonb stores the decimal it was sent and prints it without an exponent: 1e20 comes back as an int.
    as_jsonb_prints = format(Decimal(json.dumps(number)), "f")
    assert canonical_json({"x": json.loads(as_jsonb_prints)}) == canonical_json({"x": number})


def test_canonical_json_is_compact_sorted_utf8() -> None:
    assert canonical_json({"b": [1.0, 2.5], "a": "张三"}) == '{"a":"张三","b":[1,2.5]}'.encode()


# -- the bulk writer's fast digest ---------------------------------------------------------------------------
_text = st.text(max_size=12)  # lone surrogates included: neither digest can write them
plain_json = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**63), max_value=2**64 - 1) | _text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_text, inner, max_size=4),
    max_leaves=16,
)


@given(data=st.dictionaries(_text, plain_json, max_size=6), subject=_text, request_id=st.none() | _text)
def test_plain_event_digest_is_event_digest(
    data: dict[str, Any], subject: str, request_id: str | None
) -> None:
    at = datetime(2026, 11, 29, 10, 0, 0, 123456, tzinfo=CHINA)
    assert is_plain(data)
    kwargs: dict[str, Any] = {
        "actor": "client:abc",
        "action": "certificates.certificate.issued",
        "subject_type": "person",
        "subject_id": subject,
        "data": data,
        "request_id": request_id,
    }
    fast = plain_event_digest(occurred_at=at.astimezone(UTC).isoformat(timespec="microseconds"), **kwargs)
    try:
        slow: bytes | None = event_digest(occurred_at=at, **kwargs)
    except UnicodeEncodeError:  # a lone surrogate: canonical_json cannot write it either
        slow = None
    assert fast == slow


def test_floats_and_other_types_are_not_plain() -> None:
    for value in (1.0, 0.5, {"a": [1, 2.5]}, {1: "a"}, Decimal("1"), (1, 2), 2**64, -(2**63) - 1):
        assert not is_plain(value)
    assert is_plain({"a": [None, True, "x", {"b": 2**64 - 1}]})
