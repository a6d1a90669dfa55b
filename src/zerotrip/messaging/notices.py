"""Writing staff notices: draft, attach files, publish (or submit for approval), approve or refuse,
withdraw. Actions add and flush; the caller commits.

Rules:
- A notice is published for one unit by someone holding the notice publisher role there or above; every
  target lies in that unit's subtree (``TargetOutsideSubtree`` otherwise).
- Publishing writes the notice's state and nothing per recipient: the same handful of rows for ten staff or
  a whole province.
- An emergency notice that reaches the whole province waits for approval by another publisher over the
  unit when ``notices.approve_province_wide_emergency`` is on.
- Every change is audited (``messaging.notice.*``) in the same transaction.
"""

from __future__ import annotations

import hashlib
import io
import secrets
import zipfile
from pathlib import Path
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from zerotrip.audit.actions import record_event
from zerotrip.common import clock
from zerotrip.common.divisions import find_division
from zerotrip.config import NoticesSettings, Settings
from zerotrip.identity import queries as identity_queries
from zerotrip.identity.actor import Actor
from zerotrip.identity.errors import OrganisationNotFound
from zerotrip.identity.permissions import division_covers
from zerotrip.messaging import notices_permissions as perms
from zerotrip.messaging.errors_notices import (
    ApprovalNotAllowed,
    InvalidAttachment,
    InvalidNotice,
    NoticeNotFound,
    NoticeStateConflict,
    NotNoticePublisher,
    TargetOutsideSubtree,
)
from zerotrip.messaging.models_notices import Notice, NoticeAttachment, NoticeTarget
from zerotrip.messaging.notices_queries import notice_targets
from zerotrip.messaging.notices_targeting import is_province_wide, region_prefix, role_mask
from zerotrip.messaging.schemas_notices import NoticeCreate, TargetSpec

ATTACHMENTS_DIR = "notices"
DRAFTED = "messaging.notice.drafted"
ATTACHED = "messaging.notice.attachment_added"
SUBMITTED = "messaging.notice.submitted"
PUBLISHED = "messaging.notice.published"
APPROVED = "messaging.notice.approved"
REJECTED = "messaging.notice.rejected"
WITHDRAWN = "messaging.notice.withdrawn"

_OFFICE_KINDS = {
    "word/": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"),
    "xl/": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
}


def draft_notice(db: Session, *, actor: Actor, spec: NoticeCreate) -> Notice:
    """Keep a draft of a notice for the unit the actor publishes for, with its targets resolved against
    the organisation tree. Raises NotNoticePublisher, InvalidNotice, TargetOutsideSubtree."""
    publisher_org = _publishing_unit(db, actor, spec.publisher_org_id)
    # Every target is checked before anything is written.
    targets = [_resolve_target(db, publisher_org, target, i) for i, target in enumerate(spec.targets)]
    now = clock.now()
    notice = Notice(
        status="draft",
        priority=spec.priority,
        title=spec.title.strip(),
        body=spec.body,
        requires_ack=spec.requires_ack,
        links=[link.model_dump() for link in spec.links],
        form=[field.model_dump() for field in spec.form] if spec.form is not None else None,
        remind_after_minutes=spec.remind_after_minutes,
        reminder_rounds=0,
        publisher_account_id=actor.account_id,
        publisher_name=actor.name[:60],
        publisher_org_id=publisher_org.id,
        publisher_org_path=publisher_org.path,
        publisher_org_name=publisher_org.name,
        is_province_wide=False,
        created_at=now,
    )
    db.add(notice)
    db.flush()  # the targets refer to the notice's id
    for target in targets:
        target.notice_id = notice.id
        db.add(target)
    record_event(
        db,
        actor=actor.principal,
        action=DRAFTED,
        subject_type="notice",
        subject_id=str(notice.id),
        data={"publisher_org_id": publisher_org.id, "priority": spec.priority, "targets": len(spec.targets)},
    )
    return notice


def publish_notice(db: Session, *, actor: Actor, notice_id: int, settings: NoticesSettings) -> Notice:
    """Send a draft: published at once, or (a province-wide emergency when approval is configured)
    waiting for approval. Only its publisher, still holding the role, may. Raises NoticeNotFound,
    NotNoticePublisher, NoticeStateConflict."""
    notice = _own_notice(db, actor, notice_id)
    if notice.status != "draft":
        raise NoticeStateConflict(f"the notice is {notice.status}; only a draft is published")
    if not perms.can_publish_for(actor, notice.publisher_org_path):
        raise NotNoticePublisher()
    targets = notice_targets(db, notice.id)
    now = clock.now()
    notice.is_province_wide = any(is_province_wide(t) for t in targets)
    notice.submitted_at = now
    summary = {
        "priority": notice.priority,
        "province_wide": notice.is_province_wide,
        "targets": [[t.scope_path, t.division_prefix, t.role_mask] for t in targets],
    }
    if (
        notice.priority == "emergency"
        and notice.is_province_wide
        and settings.approve_province_wide_emergency
    ):
        notice.status = "pending_approval"
        record_event(
            db,
            actor=actor.principal,
            action=SUBMITTED,
            subject_type="notice",
            subject_id=str(notice.id),
            data=summary,
        )
        return notice
    notice.status = "published"
    notice.published_at = now
    record_event(
        db,
        actor=actor.principal,
        action=PUBLISHED,
        subject_type="notice",
        subject_id=str(notice.id),
        data=summary,
    )
    return notice


def create_notice(db: Session, *, actor: Actor, spec: NoticeCreate, settings: NoticesSettings) -> Notice:
    """Draft the notice and, when ``spec.publish`` is set, publish it in the same transaction."""
    notice = draft_notice(db, actor=actor, spec=spec)
    if spec.publish:
        publish_notice(db, actor=actor, notice_id=notice.id, settings=settings)
    return notice


def approve_notice(db: Session, *, actor: Actor, notice_id: int) -> Notice:
    """Approve a notice waiting for approval, which publishes it now. Raises NoticeNotFound,
    ApprovalNotAllowed, NoticeStateConflict."""
    notice = _notice_for_approver(db, actor, notice_id)
    now = clock.now()
    notice.status = "published"
    notice.published_at = now
    notice.decided_by_account_id = actor.account_id
    notice.decided_by_name = actor.name[:60]
    notice.decided_at = now
    record_event(db, actor=actor.principal, action=APPROVED, subject_type="notice", subject_id=str(notice.id))
    record_event(
        db,
        actor=actor.principal,
        action=PUBLISHED,
        subject_type="notice",
        subject_id=str(notice.id),
        data={"priority": notice.priority, "province_wide": notice.is_province_wide, "approved": True},
    )
    return notice


def reject_notice(db: Session, *, actor: Actor, notice_id: int, reason: str) -> Notice:
    """Refuse a notice waiting for approval; it is never sent. Raises NoticeNotFound, ApprovalNotAllowed,
    NoticeStateConflict, InvalidNotice."""
    if not reason.strip():
        raise InvalidNotice.field("reason", "say why the notice is refused")
    notice = _notice_for_approver(db, actor, notice_id)
    notice.status = "rejected"
    notice.decided_by_account_id = actor.account_id
    notice.decided_by_name = actor.name[:60]
    notice.decided_at = clock.now()
    notice.decision_reason = reason.strip()
    record_event(
        db,
        actor=actor.principal,
        action=REJECTED,
        subject_type="notice",
        subject_id=str(notice.id),
        data={"reason": notice.decision_reason},
    )
    return notice


def withdraw_notice(db: Session, *, actor: Actor, notice_id: int) -> Notice:
    """Take back a published notice: recipients see that it was withdrawn, and no more reminders go out.
    Its publisher or those over the publishing unit may. Raises NoticeNotFound, NoticeStateConflict."""
    notice = db.get(Notice, notice_id)
    if notice is None or not perms.oversees(actor, notice):
        raise NoticeNotFound()
    if notice.status != "published":
        raise NoticeStateConflict(f"the notice is {notice.status}; only a published notice is withdrawn")
    notice.status = "withdrawn"
    notice.withdrawn_at = clock.now()
    record_event(
        db, actor=actor.principal, action=WITHDRAWN, subject_type="notice", subject_id=str(notice.id)
    )
    return notice


def attach_file(
    db: Session, *, actor: Actor, notice_id: int, filename: str, content: bytes, settings: Settings
) -> NoticeAttachment:
    """Add a file to a draft. The bytes go to the data directory under a random name (never the
    database); only PDF, PNG, JPEG, .docx and .xlsx judged by content, within the configured size and
    count. Raises NoticeNotFound, NoticeStateConflict, InvalidAttachment."""
    notice = _own_notice(db, actor, notice_id)
    if notice.status != "draft":
        raise NoticeStateConflict("files are added to a draft, before it is published")
    limits = settings.notices
    if not content:
        raise InvalidAttachment.field("file", "the file is empty")
    if len(content) > limits.attachment_max_bytes:
        raise InvalidAttachment.field("file", f"the file is larger than {limits.attachment_max_bytes} bytes")
    count = db.scalar(select(func.count()).where(NoticeAttachment.notice_id == notice.id)) or 0
    if count >= limits.attachments_per_notice:
        raise InvalidAttachment.field(
            "file", f"a notice carries at most {limits.attachments_per_notice} files"
        )
    kind = attachment_kind(content)
    if kind is None:
        raise InvalidAttachment.field("file", "send a PDF, PNG, JPEG, Word (.docx) or Excel (.xlsx) file")
    content_type, extension = kind
    relative = Path(ATTACHMENTS_DIR) / str(notice.id) / f"{secrets.token_hex(8)}.{extension}"
    target = settings.data_dir / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".part")
    partial.write_bytes(content)
    partial.replace(target)  # a reader never sees half a file
    digest = hashlib.sha256(content).hexdigest()
    attachment = NoticeAttachment(
        notice_id=notice.id,
        name=(Path(filename).name or f"attachment.{extension}")[:200],
        content_type=content_type,
        size=len(content),
        sha256=digest,
        path=relative.as_posix(),
        uploaded_at=clock.now(),
    )
    db.add(attachment)
    db.flush()  # the id is part of the attachment's address
    record_event(
        db,
        actor=actor.principal,
        action=ATTACHED,
        subject_type="notice",
        subject_id=str(notice.id),
        data={"name": attachment.name, "type": content_type, "size": len(content), "sha256": digest},
    )
    return attachment


def attachment_kind(content: bytes) -> tuple[str, str] | None:
    """(media type, extension) judged by the first bytes (and, for Office files, the zip's parts)."""
    if content.startswith(b"%PDF-"):
        return "application/pdf", "pdf"
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png", "png"
    if content.startswith(b"\xff\xd8\xff"):
        return "image/jpeg", "jpg"
    if content.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(content)) as archive:
                names = archive.namelist()
        except zipfile.BadZipFile:
            return None
        if "[Content_Types].xml" not in names:
            return None
        for prefix, kind in _OFFICE_KINDS.items():
            if any(name.startswith(prefix) for name in names):
                return kind
    return None


# -- helpers ----------------------------------------------------------------------------------------------


class Unit(Protocol):
    """What publishing reads of an organisation (identity's row, through its queries)."""

    @property
    def id(self) -> int: ...
    @property
    def path(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def division_code(self) -> str: ...


def _publishing_unit(db: Session, actor: Actor, org_id: int | None) -> Unit:
    grants = perms.publisher_grants(actor)
    if not grants:
        raise NotNoticePublisher()
    if org_id is None:
        units = {g.org_id for g in grants}
        if len(units) > 1:
            raise InvalidNotice.field("publisher_org_id", "you publish for several units: name the one")
        org_id = grants[0].org_id
    try:
        org = identity_queries.get_organisation(db, org_id)
    except OrganisationNotFound as exc:
        raise InvalidNotice.field("publisher_org_id", "no such unit") from exc
    if not perms.can_publish_for(actor, org.path):
        raise NotNoticePublisher("you do not hold the notice publisher role over this unit")
    return org


def _resolve_target(db: Session, publisher_org: Unit, spec: TargetSpec, index: int) -> NoticeTarget:
    scope: Unit = publisher_org
    if spec.org_id is not None:
        try:
            scope = identity_queries.get_organisation(db, spec.org_id)
        except OrganisationNotFound as exc:
            raise InvalidNotice.field(f"targets/{index}/org_id", "no such unit") from exc
        if not scope.path.startswith(publisher_org.path):
            raise TargetOutsideSubtree(f"{scope.name} is not under {publisher_org.name}")
    prefix = ""
    label = scope.name
    if spec.division_code is not None:
        division = find_division(spec.division_code)
        if not division_covers(scope.division_code, spec.division_code):
            raise TargetOutsideSubtree(f"the region {spec.division_code} lies outside {scope.name}")
        prefix = region_prefix(spec.division_code)
        region_name = division.name if division is not None else spec.division_code
        label = region_name if spec.org_id is None else f"{scope.name} · {region_name}"
    return NoticeTarget(
        scope_org_id=scope.id,
        scope_path=scope.path,
        division_prefix=prefix,
        role_mask=role_mask(spec.roles),
        label=label[:160],
    )


def _own_notice(db: Session, actor: Actor, notice_id: int) -> Notice:
    notice = db.get(Notice, notice_id)
    if notice is None or actor.kind != "staff" or notice.publisher_account_id != actor.account_id:
        raise NoticeNotFound()
    return notice


def _notice_for_approver(db: Session, actor: Actor, notice_id: int) -> Notice:
    notice = db.get(Notice, notice_id)
    if notice is None or not perms.oversees(actor, notice):
        raise NoticeNotFound()
    if not perms.can_approve(actor, notice):
        raise ApprovalNotAllowed()
    if notice.status != "pending_approval":
        raise NoticeStateConflict(f"the notice is {notice.status}; only one waiting for approval is decided")
    return notice
