"""Pure services permission rules."""

from __future__ import annotations

from zerotrip.identity import permissions
from zerotrip.identity.actor import Actor


def can_define_items(actor: Actor, department_path: str) -> bool:
    """A department's guide is kept by its reviewers (审核员, who handle its applications and know what they
    need), or by the platform administrator over it (the 政务服务 office that governs the catalogue)."""
    return permissions.has_role_over(actor, "reviewer", department_path) or permissions.has_role_over(
        actor, "platform_admin", department_path
    )


def can_analyse_trips(actor: Actor) -> bool:
    """The trip analysis is built from the public guide; any staff member (and the platform) may read it."""
    return actor.kind in ("staff", "system")


def is_filer(actor: Actor, filed_by_person_id: object) -> bool:
    """The signed-in citizen who filed an application (for themself or an enterprise they represent)."""
    return actor.kind == "citizen" and actor.person_id is not None and actor.person_id == filed_by_person_id


def can_read_applications_of(actor: Actor, department_path: str) -> bool:
    """The implementing department's reviewers and the platform administrator over it read its
    applications (the workflow decides who may act on which)."""
    return actor.kind == "staff" and can_define_items(actor, department_path)
