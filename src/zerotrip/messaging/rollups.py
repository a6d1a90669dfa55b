"""Roll-ups of a notice per unit: how many it reached, read and acknowledged, for a unit and each unit
directly under it (drilling down one level at a time), and the list of those who have not read.

Recipients come from the headcount (``rollups_headcount``): the staff of each unit per set of roles, summed
where a target of the notice matches. Readers come from the notice's per-unit tallies, which reading and
acknowledging keep in step with the receipts. Nobody is fanned out: a roll-up reads a few rows per unit,
whatever the number of recipients or readers. Someone who works in two units the notice reached counts in
both, so a unit's figures are the sum of its own staff's and its sub-units'. Those who have not read are a
set difference: the memberships the targets match, less those with a receipt.
"""

from __future__ import annotations

from typing import Literal, Protocol

from sqlalchemy import ColumnElement, and_, exists, func, or_, select, true
from sqlalchemy.orm import Session

from zerotrip.identity import queries as identity_queries
from zerotrip.identity.actor import Actor
from zerotrip.identity.staff_queries import positions_select, subtree_clause
from zerotrip.messaging import notices_permissions as perms
from zerotrip.messaging.errors_notices import FollowNotAllowed, NoticeNotFound
from zerotrip.messaging.models_notices import Notice, NoticeReceipt, NoticeTally, NoticeTarget, OrgHeadcount
from zerotrip.messaging.notices_inbox import VISIBLE_TO_RECIPIENTS
from zerotrip.messaging.notices_queries import notice_targets, reached_in
from zerotrip.messaging.notices_targeting import Target, roles_of
from zerotrip.messaging.rollups_headcount import ensure_headcount
from zerotrip.messaging.schemas_notices import NonReader, NonReaderPage, RollupRead, RollupUnit


class Unit(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def path(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def kind(self) -> str: ...


def followed_unit(db: Session, actor: Actor, notice_id: int, unit_id: int | None) -> tuple[Notice, Unit]:
    """The notice and the unit (default: the publishing unit) if the actor may follow the notice there.
    Raises NoticeNotFound (the notice is not the actor's to see), FollowNotAllowed, OrganisationNotFound."""
    notice = db.get(Notice, notice_id)
    if notice is None:
        raise NoticeNotFound()
    is_recipient = notice.status in VISIBLE_TO_RECIPIENTS and bool(reached_in(db, actor, notice))
    if not is_recipient and not perms.oversees(actor, notice):
        raise NoticeNotFound()
    unit = identity_queries.get_organisation(db, unit_id if unit_id is not None else notice.publisher_org_id)
    if not perms.can_follow(actor, notice, unit.path, is_recipient=is_recipient):
        raise FollowNotAllowed()
    return notice, unit


def headcount_reached(notice_id: int) -> ColumnElement[bool]:
    """A condition on ``OrgHeadcount``: some target of the notice reaches this unit and set of roles."""
    t = NoticeTarget
    h = OrgHeadcount
    return exists().where(
        t.notice_id == notice_id,
        h.org_path.like(t.scope_path + "%"),
        or_(t.division_prefix == "", h.division_code.like(t.division_prefix + "%")),
        or_(t.role_mask == 0, h.role_mask.op("&")(t.role_mask) != 0),
    )


def child_path(unit_path: str, path: str) -> str:
    """The path of the unit directly under ``unit_path`` on the way to ``path`` (``path`` itself when it
    is a child)."""
    depth = unit_path.count("/") - 1
    parts = path.strip("/").split("/")
    return "/" + "/".join(parts[: depth + 1]) + "/"


def rollup(db: Session, *, actor: Actor, notice_id: int, unit_id: int | None = None) -> RollupRead:
    """Reached, read and acknowledged for the unit, its own staff, and each unit directly under it.
    Raises NoticeNotFound, FollowNotAllowed, OrganisationNotFound."""
    notice, unit = followed_unit(db, actor, notice_id, unit_id)
    as_of = ensure_headcount(db)
    recipients = db.execute(
        select(OrgHeadcount.org_path, func.sum(OrgHeadcount.staff))
        .where(subtree_clause(OrgHeadcount.org_path, unit.path), headcount_reached(notice.id))
        .group_by(OrgHeadcount.org_path)
    ).all()
    readers = db.execute(
        select(NoticeTally.org_path, NoticeTally.read_count, NoticeTally.acked_count).where(
            NoticeTally.notice_id == notice.id, subtree_clause(NoticeTally.org_path, unit.path)
        )
    ).all()
    totals: dict[str, list[int]] = {}
    for path, staff in recipients:
        totals.setdefault(bucket_of(unit.path, path), [0, 0, 0])[0] += int(staff)
    for path, read, acked in readers:
        bucket = totals.setdefault(bucket_of(unit.path, path), [0, 0, 0])
        bucket[1] += int(read)
        bucket[2] += int(acked)
    whole = [sum(v[i] for v in totals.values()) for i in range(3)]
    children = [
        _figures(child.id, child.name, child.kind, totals.get(child.path, [0, 0, 0]))
        for child in identity_queries.list_children(db, unit.id)
    ]
    own = totals.get(unit.path)
    return RollupRead(
        notice_id=notice.id,
        unit=_figures(unit.id, unit.name, unit.kind, whole),
        own=_figures(unit.id, unit.name, unit.kind, own) if own is not None else None,
        children=children,
        headcount_as_of=as_of,
    )


def target_clause(columns: object, targets: list[Target]) -> ColumnElement[bool]:
    """A condition on identity's membership columns (``positions_select().selected_columns``): some target
    reaches this membership."""
    c = columns
    clauses = []
    for t in targets:
        parts = [subtree_clause(c.org_path, t.scope_path)]  # type: ignore[attr-defined]
        if t.division_prefix:
            parts.append(c.division_code.like(t.division_prefix + "%"))  # type: ignore[attr-defined]
        if t.role_mask:
            parts.append(c.role.in_(roles_of(t.role_mask)))  # type: ignore[attr-defined]
        clauses.append(and_(true(), *parts))
    return or_(*clauses) if clauses else and_(true(), ~true())


def list_non_readers(
    db: Session,
    *,
    actor: Actor,
    notice_id: int,
    unit_id: int,
    missing: Literal["unread", "unacknowledged"] = "unread",
    page: int = 1,
    per_page: int = 50,
) -> NonReaderPage:
    """Those in the unit's subtree the notice reached who have not read it (or not acknowledged it), by
    unit and name: the staff matching the targets less those with a receipt, a set difference. Raises
    NoticeNotFound, FollowNotAllowed, OrganisationNotFound."""
    notice, unit = followed_unit(db, actor, notice_id, unit_id)
    query = positions_select()
    c = query.selected_columns
    receipt = [
        NoticeReceipt.notice_id == notice.id,
        NoticeReceipt.account_id == c.account_id,
        NoticeReceipt.org_id == c.org_id,
    ]
    if missing == "unacknowledged":
        receipt.append(NoticeReceipt.acked_at.is_not(None))
    matching = (
        query.where(
            subtree_clause(c.org_path, unit.path),
            target_clause(c, notice_targets(db, notice.id)),
            ~exists().where(*receipt),
        )
        .with_only_columns(c.account_id, c.display_name, c.org_id, c.org_name, c.org_path)
        .distinct()
        .subquery()
    )
    total = db.scalar(select(func.count()).select_from(matching)) or 0
    rows = db.execute(
        select(matching)
        .order_by(matching.c.org_path, matching.c.display_name, matching.c.account_id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    items = [
        NonReader(account_id=r.account_id, display_name=r.display_name, org_id=r.org_id, org_name=r.org_name)
        for r in rows
    ]
    return NonReaderPage(missing=missing, items=items, total=total, page=page, per_page=per_page)


def bucket_of(unit_path: str, path: str) -> str:
    """Where a row at ``path`` counts in a roll-up of ``unit_path``: the unit's own staff, or a child."""
    return unit_path if path == unit_path else child_path(unit_path, path)


def _figures(org_id: int, name: str, kind: str, counts: list[int]) -> RollupUnit:
    recipients, read, acked = counts
    return RollupUnit(
        org_id=org_id,
        name=name,
        kind=kind,
        recipients=recipients,
        read=read,
        acked=acked,
        read_pct=round(100.0 * read / recipients, 1) if recipients else 0.0,
        acked_pct=round(100.0 * acked / recipients, 1) if recipients else 0.0,
    )
