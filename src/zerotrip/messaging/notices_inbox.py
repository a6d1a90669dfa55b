"""A staff member's inbox of notices, read in one statement and served from its Core rows.

The inbox is the hottest page of staff notices (every staff member, many times a day), so it is built
without ORM objects or per-row validation: one Core ``SELECT`` (the notices whose targets reach one of the
reader's units, the reader's own receipts, the totals as window functions over the same rows) whose
statement is built once per shape (how many units the reader holds, unread only or not) and kept, so a
call only binds its values. ``inbox_json`` writes the API's answer with orjson straight from the rows, in
the shape of ``InboxPage``; ``inbox_rows`` gives the rows to the pages and to ``list_inbox``.

A target reaches a unit when its scope is the unit or one of its ancestors (a handful of paths, looked up
in the index on the targets), its division prefix is '' or a prefix of the unit's code, and its roles are
none or include one the reader holds there. No row per recipient exists or is needed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    Table,
    and_,
    bindparam,
    case,
    cast,
    false,
    func,
    or_,
    select,
)
from sqlalchemy.orm import Session

from zerotrip.identity.actor import Actor
from zerotrip.messaging.errors_notices import StaffOnly
from zerotrip.messaging.models_notices import Notice, NoticeReceipt, NoticeTarget
from zerotrip.messaging.notices_targeting import Position, ancestor_paths, division_prefixes, positions_of

VISIBLE_TO_RECIPIENTS = ("published", "withdrawn")

_NOTICE: Table = Notice.__table__  # type: ignore[assignment]
_TARGET: Table = NoticeTarget.__table__  # type: ignore[assignment]
_RECEIPT: Table = NoticeReceipt.__table__  # type: ignore[assignment]


@dataclass(frozen=True)
class InboxEntry:
    """One notice of an inbox, as the statement returns it (the fields of ``InboxItem``)."""

    id: int
    title: str
    priority: str
    status: str
    requires_ack: bool
    has_form: bool
    publisher_org_name: str
    published_at: datetime
    read_at: datetime | None
    acked_at: datetime | None
    is_reminded: bool


@dataclass(frozen=True)
class InboxRows:
    entries: list[InboxEntry]
    total: int
    unread: int


def addressed_to(positions: list[Position]) -> ColumnElement[bool]:
    """A condition on ``NoticeTarget``: the target reaches one of these positions (literal values)."""
    if not positions:
        return false()
    t = _TARGET.c
    return or_(
        *(
            and_(
                t.scope_path.in_(ancestor_paths(p.org_path)),
                t.division_prefix.in_(division_prefixes(p.division_code)),
                or_(t.role_mask == 0, t.role_mask.op("&")(p.mask) != 0),
            )
            for p in positions
        )
    )


def _addressed_params(positions: int) -> ColumnElement[bool]:
    """``addressed_to`` with bound parameters ``paths_N``, ``prefixes_N`` and ``mask_N`` per position."""
    t = _TARGET.c
    return or_(
        *(
            and_(
                t.scope_path.in_(bindparam(f"paths_{n}", expanding=True)),
                t.division_prefix.in_(bindparam(f"prefixes_{n}", expanding=True)),
                or_(t.role_mask == 0, t.role_mask.op("&")(bindparam(f"mask_{n}")) != 0),
            )
            for n in range(positions)
        )
    )


def _build(positions: int, unread_only: bool) -> tuple[Select[Any], Select[Any]]:
    """The page statement and the totals statement (asked only for a page past the end)."""
    n, r = _NOTICE.c, _RECEIPT.c
    addressed = select(_TARGET.c.notice_id).where(_addressed_params(positions))
    mine = (
        select(r.notice_id, func.min(r.read_at).label("read_at"), func.min(r.acked_at).label("acked_at"))
        .where(r.account_id == bindparam("account_id"))
        .group_by(r.notice_id)
        .subquery("mine")
    )
    form_text = cast(n.form, String)
    inner = (
        select(
            n.id,
            n.title,
            n.priority,
            n.status,
            n.requires_ack,
            and_(n.form.is_not(None), form_text.not_in(["null", "[]"])).label("has_form"),
            n.publisher_org_name,
            n.published_at,
            n.last_reminded_at,
            mine.c.read_at,
            mine.c.acked_at,
        )
        .select_from(_NOTICE.outerjoin(mine, mine.c.notice_id == n.id))
        .where(n.id.in_(addressed), n.status.in_(VISIBLE_TO_RECIPIENTS))
    )
    if unread_only:
        inner = inner.where(mine.c.read_at.is_(None), n.status == "published")
    rows_of = inner.subquery("inbox")
    unread = and_(rows_of.c.read_at.is_(None), rows_of.c.status == "published")
    page = (
        select(
            rows_of,
            func.count().over().label("total"),
            func.sum(case((unread, 1), else_=0)).over().label("unread"),
        )
        .order_by(
            case((and_(unread, rows_of.c.priority != "normal"), 0), else_=1),
            rows_of.c.published_at.desc(),
            rows_of.c.id.desc(),
        )
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
    )
    totals = select(func.count(), func.sum(case((unread, 1), else_=0))).select_from(rows_of)
    return page, totals  # type: ignore[return-value]


_STATEMENTS: dict[tuple[int, bool], tuple[Select[Any], Select[Any]]] = {}


def _statements(positions: int, unread_only: bool) -> tuple[Select[Any], Select[Any]]:
    """Built once per shape; SQLAlchemy then keeps each one's compiled form in the engine's cache."""
    key = (positions, unread_only)
    found = _STATEMENTS.get(key)
    if found is None:
        found = _STATEMENTS[key] = _build(positions, unread_only)
    return found


def inbox_rows(
    db: Session, *, actor: Actor, page: int = 1, per_page: int = 20, unread_only: bool = False
) -> InboxRows:
    """The notices addressed to the actor, published or withdrawn: unread urgent and emergency notices
    first, then newest first; with the total and the number unread. Raises StaffOnly."""
    if actor.kind != "staff":
        raise StaffOnly()
    positions = positions_of(actor)
    if not positions:
        return InboxRows(entries=[], total=0, unread=0)
    params: dict[str, Any] = {
        "account_id": actor.account_id,
        "limit": per_page,
        "offset": (page - 1) * per_page,
    }
    for number, p in enumerate(positions):
        params[f"paths_{number}"] = ancestor_paths(p.org_path)
        params[f"prefixes_{number}"] = division_prefixes(p.division_code)
        params[f"mask_{number}"] = p.mask
    statement, totals = _statements(len(positions), unread_only)
    db.flush()  # the statement runs on the connection, which does not flush the session for us
    connection = db.connection()
    rows = connection.execute(statement, params).all()
    if rows:
        total, unread = int(rows[0].total), int(rows[0].unread or 0)
    else:
        counted = connection.execute(totals, params).one()
        total, unread = int(counted[0]), int(counted[1] or 0)
    entries = [
        InboxEntry(
            id=r.id,
            title=r.title,
            priority=r.priority,
            status=r.status,
            requires_ack=r.requires_ack,
            has_form=bool(r.has_form),
            publisher_org_name=r.publisher_org_name,
            published_at=r.published_at,
            read_at=r.read_at,
            acked_at=r.acked_at,
            is_reminded=r.last_reminded_at is not None
            and r.status == "published"
            and (r.read_at is None or (r.requires_ack and r.acked_at is None)),
        )
        for r in rows
    ]
    return InboxRows(entries=entries, total=total, unread=unread)


def inbox_json(
    db: Session, *, actor: Actor, page: int = 1, per_page: int = 20, unread_only: bool = False
) -> bytes:
    """``inbox_rows`` as the API's JSON answer (an ``InboxPage``), written by orjson with no model in
    between. Raises StaffOnly."""
    found = inbox_rows(db, actor=actor, page=page, per_page=per_page, unread_only=unread_only)
    return orjson.dumps(
        {
            "items": found.entries,
            "total": found.total,
            "unread": found.unread,
            "page": page,
            "per_page": per_page,
        },
        option=orjson.OPT_UTC_Z,
    )


def unread_count(db: Session, *, actor: Actor) -> int:
    """How many published notices addressed to the actor they have not read. Raises StaffOnly."""
    return inbox_rows(db, actor=actor, per_page=1, unread_only=True).unread
