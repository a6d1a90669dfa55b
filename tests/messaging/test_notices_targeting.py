"""The pure targeting rules: role bits, ancestor paths, division prefixes, and what a target matches."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from zerotrip.identity.actor import Actor, Grant
from zerotrip.identity.models import ROLES
from zerotrip.messaging.notices_targeting import (
    MEMBER_BIT,
    ROLE_BITS,
    Position,
    Target,
    ancestor_paths,
    division_prefixes,
    is_province_wide,
    matches,
    positions_of,
    role_mask,
    roles_of,
)


def test_every_identity_role_has_its_own_bit() -> None:
    assert set(ROLE_BITS) == set(ROLES)
    bits = [MEMBER_BIT, *ROLE_BITS.values()]
    assert len(set(bits)) == len(bits) and all(b & (b - 1) == 0 for b in bits)


@given(st.lists(st.sampled_from(list(ROLE_BITS)), unique=True))
def test_role_masks_round_trip(roles: list[str]) -> None:
    assert roles_of(role_mask(roles)) == [r for r in ROLE_BITS if r in roles]


@given(st.lists(st.integers(1, 10_000), min_size=1, max_size=6))
def test_ancestor_paths_are_every_prefix_of_the_path(ids: list[int]) -> None:
    path = "/" + "/".join(map(str, ids)) + "/"
    ancestors = ancestor_paths(path)
    assert ancestors[-1] == path and len(ancestors) == len(ids)
    assert all(path.startswith(a) for a in ancestors)
    # A path that merely starts with the same digits is not an ancestor: /1/ is not above /12/.
    assert "/1/" not in ancestor_paths("/12/5/")


def test_division_prefixes() -> None:
    assert division_prefixes("330106") == ["", "33", "3301", "330106"]


def test_matching_a_position() -> None:
    xihu_reviewer = Position(23, "/1/5/23/", "330106", ROLE_BITS["reviewer"])
    assert matches(Target("/1/"), xihu_reviewer)
    assert matches(Target("/1/5/", "3301"), xihu_reviewer)
    assert not matches(Target("/1/5/", "330108"), xihu_reviewer)
    assert not matches(Target("/1/5/2/"), xihu_reviewer)
    assert matches(Target("/1/", "", role_mask(["reviewer", "data_steward"])), xihu_reviewer)
    assert not matches(Target("/1/", "", role_mask(["data_steward"])), xihu_reviewer)
    assert is_province_wide(Target("/1/")) and is_province_wide(Target("/1/", "33"))
    assert not is_province_wide(Target("/1/", "3301")) and not is_province_wide(Target("/1/5/"))


def test_positions_group_a_staff_members_roles_by_unit() -> None:
    actor = Actor(
        kind="staff",
        grants=(
            Grant(5, "/1/5/", "330100", "reviewer"),
            Grant(5, "/1/5/", "330100", "notice_publisher"),
            Grant(9, "/1/5/9/", "330106", None),
        ),
    )
    assert positions_of(actor) == [
        Position(5, "/1/5/", "330100", ROLE_BITS["reviewer"] | ROLE_BITS["notice_publisher"]),
        Position(9, "/1/5/9/", "330106", MEMBER_BIT),
    ]
    assert positions_of(Actor(kind="citizen")) == []
