"""The staff directory (通讯录): search staff by name, unit and role within what the searcher may see,
which is the subtrees of the units they work in (any role). One row per membership: someone holding two
roles is listed with each."""

from __future__ import annotations

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from zerotrip.identity import queries as identity_queries
from zerotrip.identity.actor import Actor
from zerotrip.identity.staff_queries import positions_select, subtree_clause
from zerotrip.messaging.errors_notices import DirectoryNotAllowed
from zerotrip.messaging.notices_targeting import ROLE_BITS
from zerotrip.messaging.schemas_notices import DirectoryEntry, DirectoryPage
from zerotrip.problems import ValidationFailed


def visible_roots(actor: Actor) -> list[str]:
    """The highest units the actor works in: everything under them is visible, nothing else."""
    paths = sorted({g.org_path for g in actor.grants}, key=len)
    roots: list[str] = []
    for path in paths:
        if not any(path.startswith(root) for root in roots):
            roots.append(path)
    return roots


def search_staff(
    db: Session,
    *,
    actor: Actor,
    q: str | None = None,
    unit_id: int | None = None,
    role: str | None = None,
    page: int = 1,
    per_page: int = 20,
) -> DirectoryPage:
    """Staff whose name contains ``q`` (or whose login name starts with it), in ``unit_id``'s subtree,
    holding ``role``; by name. Raises DirectoryNotAllowed (not staff, or a unit outside what the actor
    sees), ValidationFailed, OrganisationNotFound."""
    if actor.kind != "staff":
        raise DirectoryNotAllowed()
    roots = visible_roots(actor)
    if not roots:
        raise DirectoryNotAllowed()
    if role is not None and role not in ROLE_BITS:
        raise ValidationFailed.field("role", f"must be one of {', '.join(ROLE_BITS)}")
    query = positions_select()
    c = query.selected_columns
    scopes = roots
    if unit_id is not None:
        unit = identity_queries.get_organisation(db, unit_id)
        if not any(unit.path.startswith(root) for root in roots):
            raise DirectoryNotAllowed("this unit is outside the units you work in")
        scopes = [unit.path]
    conditions: list[ColumnElement[bool]] = [or_(*(subtree_clause(c.org_path, s) for s in scopes))]
    text = (q or "").strip()
    if len(text) > 60:
        raise ValidationFailed.field("q", "at most 60 characters")
    if text:
        conditions.append(
            or_(
                c.display_name.contains(text, autoescape=True), c.login_name.startswith(text, autoescape=True)
            )
        )
    if role is not None:
        conditions.append(c.role == role)
    query = query.where(*conditions)
    total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.execute(
        query.order_by(c.display_name, c.org_path, c.membership_id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    items = [
        DirectoryEntry(
            account_id=r.account_id,
            display_name=r.display_name,
            org_id=r.org_id,
            org_name=r.org_name,
            org_kind=r.org_kind,
            division_code=r.division_code,
            role=r.role,
            title=r.title,
        )
        for r in rows
    ]
    return DirectoryPage(items=items, total=total, page=page, per_page=per_page)
