"""Pure permission rules. Actions call these; pages, API, CLI and tasks therefore cannot disagree."""

from __future__ import annotations

import uuid

from zerotrip.identity.actor import Actor


def division_prefix(division_code: str) -> str:
    """The part of a GB/T 2260 code that its descendants share: 330000 → 33, 330100 → 3301."""
    if division_code.endswith("0000"):
        return division_code[:2]
    if division_code.endswith("00"):
        return division_code[:4]
    return division_code


def division_covers(outer: str, inner: str) -> bool:
    return inner.startswith(division_prefix(outer))


def has_role_over(actor: Actor, role: str, org_path: str) -> bool:
    """True when the actor holds ``role`` at ``org_path`` or at one of its ancestors."""
    if actor.kind == "system":
        return True
    return actor.kind == "staff" and any(
        g.role == role and org_path.startswith(g.org_path) for g in actor.grants
    )


def is_member_over(actor: Actor, org_path: str) -> bool:
    """True when the actor works in ``org_path`` or above it, in any role."""
    if actor.kind == "system":
        return True
    return actor.kind == "staff" and any(org_path.startswith(g.org_path) for g in actor.grants)


def is_platform_admin(actor: Actor) -> bool:
    if actor.kind == "system":
        return True
    return actor.kind == "staff" and any(
        g.role == "platform_admin" and g.org_path.count("/") == 2 for g in actor.grants
    )


def can_manage_org(actor: Actor, org_path: str) -> bool:
    """Creating units and adding staff takes the platform administrator role over that subtree."""
    return has_role_over(actor, "platform_admin", org_path)


def can_read_person(actor: Actor, *, person_id: uuid.UUID, division_code: str) -> bool:
    """A citizen reads only their own record; staff read people living in the region they serve;
    an API client needs the ``identity.persons.read`` scope."""
    if actor.kind == "system":
        return True
    if actor.kind == "citizen":
        return actor.person_id == person_id
    if actor.kind == "staff":
        return any(division_covers(g.division_code, division_code) for g in actor.grants)
    if actor.kind == "client":
        return "identity.persons.read" in actor.scopes
    return False


def can_register_person(actor: Actor, *, division_code: str) -> bool:
    """Household registration is public security's; here the platform administrator of the region, or a
    department system with ``identity.persons.write``, may add people."""
    if actor.kind == "system":
        return True
    if actor.kind == "staff":
        return any(
            g.role == "platform_admin" and division_covers(g.division_code, division_code)
            for g in actor.grants
        )
    if actor.kind == "client":
        return "identity.persons.write" in actor.scopes
    return False


def can_register_enterprise(actor: Actor, *, division_code: str) -> bool:
    if actor.kind == "client":
        return "identity.enterprises.write" in actor.scopes
    return can_register_person(actor, division_code=division_code)
