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


def can_review(actor: Actor, office_path: str) -> bool:
    """Handling an application (accepting, reviewing, asking for a supplement, deciding, answering its
    rating) takes the reviewer role over the office it is with: staff of one county never act on another
    county's applications, whose offices lie outside their subtree."""
    return actor.kind == "staff" and permissions.has_role_over(actor, "reviewer", office_path)


def can_read_applications_of(actor: Actor, office_path: str, escalated_to_path: str | None = None) -> bool:
    """The office's reviewers and the platform administrator over it read its applications; so do the
    office above it once an overdue one was escalated there (to urge it on, 督办)."""
    if actor.kind != "staff":
        return False
    return can_define_items(actor, office_path) or (
        escalated_to_path is not None and can_define_items(actor, escalated_to_path)
    )


def review_paths(actor: Actor, *, roles: tuple[str, ...] = ("reviewer",)) -> list[str]:
    """The org subtrees (materialised paths) where ``actor`` holds one of ``roles``: the offices whose
    applications are in their queue."""
    if actor.kind != "staff":
        return []
    return sorted({g.org_path for g in actor.grants if g.role in roles})


def can_define_bundles(actor: Actor, department_paths: list[str]) -> bool:
    """A bundle joins several departments' items, so it is kept by the platform administrator (the 政务服务
    office) over every one of those departments."""
    return bool(department_paths) and all(
        permissions.has_role_over(actor, "platform_admin", path) for path in department_paths
    )
