"""Pure datahub permission rules."""

from __future__ import annotations

from zerotrip.identity import permissions
from zerotrip.identity.actor import Actor


def can_steward(actor: Actor, owner_org_path: str) -> bool:
    """Cataloguing, loading and answering requests and objections for a department's data takes the data
    steward role over that department (or the platform administrator's)."""
    return permissions.has_role_over(actor, "data_steward", owner_org_path) or permissions.has_role_over(
        actor, "platform_admin", owner_org_path
    )


def can_browse_catalogue(actor: Actor) -> bool:
    """Every staff member, department system and the platform may browse the (non-open) catalogue."""
    return actor.kind in ("staff", "client", "system")


def can_oversee(actor: Actor) -> bool:
    """The platform operator (公共数据主管部门) oversees sharing across departments."""
    return permissions.is_platform_admin(actor)
