"""Pure certificates permission rules. Actions and queries call these, so every edge agrees."""

from __future__ import annotations

from zerotrip.identity import permissions
from zerotrip.identity.actor import Actor

ISSUE_SCOPE = "certificates.issue"
ISSUER_ROLE = "certificate_issuer"


def can_define_types(actor: Actor) -> bool:
    """The certificate type catalogue (证照目录) is the platform operator's."""
    return permissions.is_platform_admin(actor)


def can_issue_for(actor: Actor, *, org_id: int, org_path: str) -> bool:
    """Issuing and changing the status of a department's certificates: staff with the certificate issuer
    role over the department, that department's own system with the ``certificates.issue`` scope, or
    the platform itself (another context, such as an approved application). The scope is checked apart
    (see ``lacks_issue_scope``) so that its absence gets its own problem."""
    if actor.kind == "system":
        return True
    if actor.kind == "staff":
        return permissions.has_role_over(actor, ISSUER_ROLE, org_path)
    if actor.kind == "client":
        return actor.client_org_id == org_id and ISSUE_SCOPE in actor.scopes
    return False


def lacks_issue_scope(actor: Actor) -> bool:
    return actor.kind == "client" and ISSUE_SCOPE not in actor.scopes


def can_oversee(actor: Actor) -> bool:
    """The platform operator sees every certificate (supervision, complaints)."""
    return permissions.is_platform_admin(actor)


def issuer_org_ids(actor: Actor) -> set[int]:
    """The departments where the actor holds the issuer role itself (a client: its own department)."""
    if actor.kind == "client" and actor.client_org_id is not None and ISSUE_SCOPE in actor.scopes:
        return {actor.client_org_id}
    if actor.kind == "staff":
        return {g.org_id for g in actor.grants if g.role == ISSUER_ROLE}
    return set()
