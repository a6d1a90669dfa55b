"""Pure permission rules of booking. Actions call these; pages, API, CLI and tasks therefore cannot disagree.

Citizens book for themselves, and for a family member where household registration records the tie and
the person cannot be expected to book alone: a minor child (the parent is the guardian) or a parent aged
``ELDERLY_AGE`` or more. Site operators (role ``site_operator``) act for the sites their organisation
subtree runs; the platform administrator over a subtree may manage its sites too.
"""

from __future__ import annotations

from datetime import date

from zerotrip.identity.actor import Actor
from zerotrip.identity.permissions import has_role_over

ADULT_AGE = 18
ELDERLY_AGE = 60
OPERATOR_ROLE = "site_operator"


def age_on(birth_date: date, day: date) -> int:
    """Completed years on ``day``."""
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def may_book_for_relative(kind: str, *, relative_birth_date: date, today: date) -> bool:
    """Whether a citizen may book for a relative who is ``kind`` to them (identity's relation kinds: what
    the relative is to the person): a child under 18, or a parent aged 60 or more."""
    age = age_on(relative_birth_date, today)
    if kind == "child":
        return age < ADULT_AGE
    if kind == "parent":
        return age >= ELDERLY_AGE
    return False


def can_operate_site(actor: Actor, org_path: str) -> bool:
    """Day lists, check-in and recording at a site run by the organisation at ``org_path``."""
    return has_role_over(actor, OPERATOR_ROLE, org_path)


def can_manage_site(actor: Actor, org_path: str) -> bool:
    """Services, templates, slots, closures and capacity of a site: its operators, or the platform
    administrator over its organisation."""
    return has_role_over(actor, OPERATOR_ROLE, org_path) or has_role_over(actor, "platform_admin", org_path)


def operated_paths(actor: Actor) -> list[str]:
    """The organisation subtrees whose sites the actor operates or manages (the system: everything, "/")."""
    if actor.kind == "system":
        return ["/"]
    if actor.kind != "staff":
        return []
    return sorted({g.org_path for g in actor.grants if g.role in (OPERATOR_ROLE, "platform_admin")})
