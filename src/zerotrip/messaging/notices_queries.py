"""Reading staff notices: one notice as its reader or publisher sees it, a staff member's inbox, the
notices one has sent or may approve. ``get_*`` raises NotFound.

The inbox matches the notice targets against the reader's units: a target reaches a unit when its scope
is the unit or one of its ancestors (a handful of paths, looked up in the index on the targets), its
division prefix is '' or a prefix of the unit's code, and its roles are none or include one the reader
holds there. No row per recipient exists or is needed.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, case, false, func, or_, select
from sqlalchemy.orm import Session

from zerotrip.identity.actor import Actor
from zerotrip.messaging import notices_permissions as perms
from zerotrip.messaging.errors_notices import AttachmentNotFound, NoticeNotFound, StaffOnly
from zerotrip.messaging.models_notices import Notice, NoticeAttachment, NoticeReceipt, NoticeTarget
from zerotrip.messaging.notices_targeting import (
    Position,
    Target,
    ancestor_paths,
    division_prefixes,
    positions_of,
    reached_positions,
    roles_of,
)
from zerotrip.messaging.schemas_notices import (
    AttachmentRead,
    FormFieldSpec,
    InboxItem,
    InboxPage,
    LinkSpec,
    NoticePage,
    NoticeRead,
    NoticeSummary,
    ReceiptState,
    TargetRead,
)

VISIBLE_TO_RECIPIENTS = ("published", "withdrawn")


def notice_targets(db: Session, notice_id: int) -> list[Target]:
    rows = db.execute(
        select(NoticeTarget.scope_path, NoticeTarget.division_prefix, NoticeTarget.role_mask)
        .where(NoticeTarget.notice_id == notice_id)
        .order_by(NoticeTarget.id)
    ).all()
    return [Target(path, prefix, mask) for path, prefix, mask in rows]


def reached_in(db: Session, actor: Actor, notice: Notice) -> list[Position]:
    """The actor's units the notice reaches them in (none: it is not addressed to them)."""
    return reached_positions(notice_targets(db, notice.id), positions_of(actor))


def get_notice(db: Session, *, actor: Actor, notice_id: int) -> tuple[Notice, list[Position]]:
    """The notice if the actor may see it: its publisher and those over the publishing unit in every
    state, its recipients once it is published. Returns it with the actor's reached units. Raises
    NoticeNotFound (also for a notice that exists but is not the actor's to see)."""
    notice = db.get(Notice, notice_id)
    if notice is None:
        raise NoticeNotFound()
    reached = reached_in(db, actor, notice) if notice.status in VISIBLE_TO_RECIPIENTS else []
    if not reached and not perms.oversees(actor, notice):
        raise NoticeNotFound()
    return notice, reached


def notice_read(db: Session, notice: Notice, *, actor: Actor, reached: list[Position]) -> NoticeRead:
    targets = db.scalars(
        select(NoticeTarget).where(NoticeTarget.notice_id == notice.id).order_by(NoticeTarget.id)
    ).all()
    attachments = db.scalars(
        select(NoticeAttachment).where(NoticeAttachment.notice_id == notice.id).order_by(NoticeAttachment.id)
    ).all()
    receipt = None
    if reached:
        read_at, acked_at = db.execute(
            select(func.min(NoticeReceipt.read_at), func.min(NoticeReceipt.acked_at)).where(
                NoticeReceipt.notice_id == notice.id, NoticeReceipt.account_id == actor.account_id
            )
        ).one()
        receipt = ReceiptState(read_at=read_at, acked_at=acked_at, units=[p.org_id for p in reached])
    return NoticeRead(
        id=notice.id,
        status=notice.status,
        priority=notice.priority,
        title=notice.title,
        body=notice.body,
        requires_ack=notice.requires_ack,
        links=[LinkSpec(**link) for link in notice.links],
        form=[FormFieldSpec(**field) for field in notice.form] if notice.form else None,
        remind_after_minutes=notice.remind_after_minutes,
        targets=[
            TargetRead(
                scope_org_id=t.scope_org_id,
                label=t.label,
                division_prefix=t.division_prefix,
                roles=roles_of(t.role_mask),
            )
            for t in targets
        ],
        attachments=[
            AttachmentRead(id=a.id, name=a.name, content_type=a.content_type, size=a.size, sha256=a.sha256)
            for a in attachments
        ],
        publisher_name=notice.publisher_name,
        publisher_org_id=notice.publisher_org_id,
        publisher_org_name=notice.publisher_org_name,
        is_province_wide=notice.is_province_wide,
        created_at=notice.created_at,
        published_at=notice.published_at,
        decided_by_name=notice.decided_by_name,
        decided_at=notice.decided_at,
        decision_reason=notice.decision_reason,
        withdrawn_at=notice.withdrawn_at,
        receipt=receipt,
    )


def get_attachment(db: Session, *, actor: Actor, notice_id: int, attachment_id: int) -> NoticeAttachment:
    """An attachment of a notice the actor may see. Raises NoticeNotFound, AttachmentNotFound."""
    get_notice(db, actor=actor, notice_id=notice_id)
    attachment = db.get(NoticeAttachment, attachment_id)
    if attachment is None or attachment.notice_id != notice_id:
        raise AttachmentNotFound()
    return attachment


def addressed_to(positions: list[Position]) -> ColumnElement[bool]:
    """A condition on ``NoticeTarget``: the target reaches one of these positions."""
    if not positions:
        return false()
    return or_(
        *(
            and_(
                NoticeTarget.scope_path.in_(ancestor_paths(p.org_path)),
                NoticeTarget.division_prefix.in_(division_prefixes(p.division_code)),
                or_(NoticeTarget.role_mask == 0, NoticeTarget.role_mask.op("&")(p.mask) != 0),
            )
            for p in positions
        )
    )


def list_inbox(
    db: Session, *, actor: Actor, page: int = 1, per_page: int = 20, unread_only: bool = False
) -> InboxPage:
    """The notices addressed to the actor, published or withdrawn: unread urgent and emergency notices
    first, then newest first; with the total and the number unread. Raises StaffOnly."""
    if actor.kind != "staff":
        raise StaffOnly()
    positions = positions_of(actor)
    addressed = select(NoticeTarget.notice_id).where(addressed_to(positions))
    mine = (
        select(
            NoticeReceipt.notice_id,
            func.min(NoticeReceipt.read_at).label("read_at"),
            func.min(NoticeReceipt.acked_at).label("acked_at"),
        )
        .where(NoticeReceipt.account_id == actor.account_id)
        .group_by(NoticeReceipt.notice_id)
        .subquery()
    )
    inner = (
        select(
            Notice.id,
            Notice.title,
            Notice.priority,
            Notice.status,
            Notice.requires_ack,
            Notice.form,
            Notice.publisher_org_name,
            Notice.published_at,
            Notice.last_reminded_at,
            mine.c.read_at,
            mine.c.acked_at,
        )
        .outerjoin(mine, mine.c.notice_id == Notice.id)
        .where(Notice.id.in_(addressed), Notice.status.in_(VISIBLE_TO_RECIPIENTS))
    )
    if unread_only:
        inner = inner.where(mine.c.read_at.is_(None), Notice.status == "published")
    rows_of = inner.subquery()
    unread = and_(rows_of.c.read_at.is_(None), rows_of.c.status == "published")
    query = (
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
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    rows = db.execute(query).all()
    if rows:
        total, unread_count = int(rows[0].total), int(rows[0].unread or 0)
    else:
        counted = select(func.count(), func.sum(case((unread, 1), else_=0))).select_from(rows_of)
        total_row = db.execute(counted).one()
        total, unread_count = int(total_row[0]), int(total_row[1] or 0)
    items = [
        InboxItem(
            id=r.id,
            title=r.title,
            priority=r.priority,
            status=r.status,
            requires_ack=r.requires_ack,
            has_form=bool(r.form),
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
    return InboxPage(items=items, total=total, unread=unread_count, page=page, per_page=per_page)


def list_sent(db: Session, *, actor: Actor, page: int = 1, per_page: int = 20) -> NoticePage:
    """The notices the actor drafted or published, newest first. Raises StaffOnly."""
    if actor.kind != "staff":
        raise StaffOnly()
    where = Notice.publisher_account_id == actor.account_id
    return _page(db, where, page=page, per_page=per_page)


def list_awaiting_approval(db: Session, *, actor: Actor, page: int = 1, per_page: int = 20) -> NoticePage:
    """Notices waiting for approval that the actor may approve (published for a unit under one where they
    hold the notice publisher or platform administrator role; not their own). Raises StaffOnly."""
    if actor.kind != "staff":
        raise StaffOnly()
    paths = [g.org_path for g in actor.grants if g.role in (perms.PUBLISHER, perms.ADMIN)]
    if not paths:
        return NoticePage(items=[], total=0, page=page, per_page=per_page)
    where = and_(
        Notice.status == "pending_approval",
        Notice.publisher_account_id != actor.account_id,
        or_(*(Notice.publisher_org_path.like(path + "%") for path in paths)),
    )
    return _page(db, where, page=page, per_page=per_page)


def _page(db: Session, where: ColumnElement[bool], *, page: int, per_page: int) -> NoticePage:
    total = db.scalar(select(func.count()).select_from(Notice).where(where)) or 0
    notices = db.scalars(
        select(Notice)
        .where(where)
        .order_by(Notice.created_at.desc(), Notice.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    items = [
        NoticeSummary(
            id=n.id,
            title=n.title,
            priority=n.priority,
            status=n.status,
            publisher_name=n.publisher_name,
            publisher_org_name=n.publisher_org_name,
            created_at=n.created_at,
            published_at=n.published_at,
        )
        for n in notices
    ]
    return NoticePage(items=items, total=total, page=page, per_page=per_page)
