"""Reading staff notices: one notice as its reader or publisher sees it, a staff member's inbox, the
notices one has sent or may approve. ``get_*`` raises NotFound. The inbox's statement is in
``notices_inbox``.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from zerotrip.identity.actor import Actor
from zerotrip.messaging import notices_permissions as perms
from zerotrip.messaging.errors_notices import AttachmentNotFound, NoticeNotFound, StaffOnly
from zerotrip.messaging.models_notices import Notice, NoticeAttachment, NoticeReceipt, NoticeTarget
from zerotrip.messaging.notices_inbox import VISIBLE_TO_RECIPIENTS, inbox_rows
from zerotrip.messaging.notices_targeting import (
    Position,
    Target,
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


def list_inbox(
    db: Session, *, actor: Actor, page: int = 1, per_page: int = 20, unread_only: bool = False
) -> InboxPage:
    """The notices addressed to the actor, published or withdrawn: unread urgent and emergency notices
    first, then newest first; with the total and the number unread. Raises StaffOnly. (The API answers
    from the rows with ``notices_inbox.inbox_json`` instead, without the models.)"""
    found = inbox_rows(db, actor=actor, page=page, per_page=per_page, unread_only=unread_only)
    items = [InboxItem.model_construct(**vars(e)) for e in found.entries]
    return InboxPage(items=items, total=found.total, unread=found.unread, page=page, per_page=per_page)


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
