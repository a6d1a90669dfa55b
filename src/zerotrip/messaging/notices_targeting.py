"""Whom a notice reaches, as pure rules over materialised paths, division codes and role bits.

A target is (scope path, division prefix, role mask): the staff whose unit lies in the subtree at the
scope path, whose unit's division code starts with the prefix ('' for any), and who hold one of the roles
in the mask there (0: any role, or none). A *position* is one staff member at one unit with the set of
roles they hold there; a staff member is a recipient when a target matches one of their positions. The
same rules run in SQL (``notices_sql``) and here (for one reader), and the tests hold them to each other.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from zerotrip.identity.actor import Actor
from zerotrip.identity.permissions import division_prefix

# Bit 0 stands for a membership without a role; each role has its own bit. Fixed here, not derived from
# the order of identity's ROLES, because masks are stored (a test checks that every role has a bit).
MEMBER_BIT = 1
ROLE_BITS: dict[str, int] = {
    "reviewer": 1 << 1,
    "certificate_issuer": 1 << 2,
    "data_steward": 1 << 3,
    "site_operator": 1 << 4,
    "notice_publisher": 1 << 5,
    "platform_admin": 1 << 6,
}


def role_bit(role: str | None) -> int:
    return MEMBER_BIT if role is None else ROLE_BITS.get(role, MEMBER_BIT)


def role_mask(roles: Iterable[str]) -> int:
    """The mask of a target's roles; raises KeyError for a role that does not exist."""
    mask = 0
    for role in roles:
        mask |= ROLE_BITS[role]
    return mask


def roles_of(mask: int) -> list[str]:
    return [role for role, bit in ROLE_BITS.items() if mask & bit]


@dataclass(frozen=True)
class Target:
    scope_path: str
    division_prefix: str = ""
    role_mask: int = 0


@dataclass(frozen=True)
class Position:
    """One staff member's place at one unit, with the roles they hold there."""

    org_id: int
    org_path: str
    division_code: str
    mask: int


def ancestor_paths(path: str) -> list[str]:
    """The materialised paths of a unit and every unit above it: "/1/5/23/" → ["/1/", "/1/5/", "/1/5/23/"]."""
    parts = path.strip("/").split("/")
    return ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


def division_prefixes(division_code: str) -> list[str]:
    """Every prefix a region target matching this unit's division code can carry, and '' (no region):
    330106 → ['', '33', '3301', '330106']."""
    return ["", division_code[:2], division_code[:4], division_code]


def region_prefix(division_code: str) -> str:
    """The prefix a region target stores for a GB/T 2260 code: 330000 → 33, 330100 → 3301."""
    return division_prefix(division_code)


def matches(target: Target, position: Position) -> bool:
    if not position.org_path.startswith(target.scope_path):
        return False
    if target.division_prefix and not position.division_code.startswith(target.division_prefix):
        return False
    return target.role_mask == 0 or bool(target.role_mask & position.mask)


def positions_of(actor: Actor) -> list[Position]:
    """The actor's positions: their grants grouped by unit, with the roles held at each."""
    if actor.kind != "staff":
        return []
    by_org: dict[int, Position] = {}
    for grant in actor.grants:
        held = by_org.get(grant.org_id)
        mask = (held.mask if held else 0) | role_bit(grant.role)
        by_org[grant.org_id] = Position(grant.org_id, grant.org_path, grant.division_code, mask)
    return sorted(by_org.values(), key=lambda p: p.org_path)


def reached_positions(targets: Sequence[Target], positions: Iterable[Position]) -> list[Position]:
    """The positions any of the targets reaches."""
    return [p for p in positions if any(matches(t, p) for t in targets)]


def is_province_wide(target: Target) -> bool:
    """True when the target's scope is the top of the tree and no region narrows it below the province."""
    return target.scope_path.count("/") == 2 and len(target.division_prefix) <= 2
