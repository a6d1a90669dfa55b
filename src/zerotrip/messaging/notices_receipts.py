"""Read receipts and acknowledgements (回执): written when a staff member reads or acknowledges, one row
for each of their units the notice reached them in. Actions add and flush; the caller commits.

Reading twice, or from two devices at once, leaves one receipt: the insert skips a receipt that exists.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from zerotrip.audit.actions import record_event
from zerotrip.common import clock
from zerotrip.identity.actor import Actor
from zerotrip.messaging.errors_notices import AckNotRequired, NoticeNotFound, NoticeStateConflict, StaffOnly
from zerotrip.messaging.models_notices import Notice, NoticeReceipt
from zerotrip.messaging.notices_queries import VISIBLE_TO_RECIPIENTS, reached_in
from zerotrip.messaging.notices_targeting import Position
from zerotrip.messaging.schemas_notices import ReceiptState

ACKNOWLEDGED = "messaging.notice.acknowledged"


def mark_read(db: Session, *, actor: Actor, notice_id: int) -> ReceiptState:
    """Record that the actor has read a notice addressed to them (again: nothing changes). Raises
    StaffOnly, NoticeNotFound (also when the notice is not addressed to them)."""
    notice, reached = _addressed(db, actor, notice_id)
    return _read(db, actor, notice, reached)


def acknowledge(db: Session, *, actor: Actor, notice_id: int) -> ReceiptState:
    """Acknowledge a notice that asks for it (which also reads it); audited. Acknowledging again changes
    nothing. Raises StaffOnly, NoticeNotFound, AckNotRequired, NoticeStateConflict (withdrawn)."""
    notice, reached = _addressed(db, actor, notice_id)
    if not notice.requires_ack:
        raise AckNotRequired()
    if notice.status != "published":
        raise NoticeStateConflict("the notice was withdrawn; there is nothing to acknowledge")
    state = _read(db, actor, notice, reached)
    if state.acked_at is not None:
        return state
    now = clock.now()
    db.execute(
        update(NoticeReceipt)
        .where(
            NoticeReceipt.notice_id == notice.id,
            NoticeReceipt.account_id == actor.account_id,
            NoticeReceipt.acked_at.is_(None),
        )
        .values(acked_at=now)
        .execution_options(synchronize_session=False)
    )
    record_event(
        db,
        actor=actor.principal,
        action=ACKNOWLEDGED,
        subject_type="notice",
        subject_id=str(notice.id),
        data={"units": [p.org_id for p in reached]},
    )
    return ReceiptState(read_at=state.read_at, acked_at=now, units=state.units)


def _addressed(db: Session, actor: Actor, notice_id: int) -> tuple[Notice, list[Position]]:
    if actor.kind != "staff":
        raise StaffOnly()
    notice = db.get(Notice, notice_id)
    if notice is None or notice.status not in VISIBLE_TO_RECIPIENTS:
        raise NoticeNotFound()
    reached = reached_in(db, actor, notice)
    if not reached:
        raise NoticeNotFound()
    return notice, reached


def _read(db: Session, actor: Actor, notice: Notice, reached: list[Position]) -> ReceiptState:
    existing = db.execute(
        select(NoticeReceipt.org_id, NoticeReceipt.read_at, NoticeReceipt.acked_at).where(
            NoticeReceipt.notice_id == notice.id, NoticeReceipt.account_id == actor.account_id
        )
    ).all()
    have = {row.org_id for row in existing}
    missing = [p for p in reached if p.org_id not in have]
    now = clock.now()
    if missing:
        rows = [
            {
                "notice_id": notice.id,
                "account_id": actor.account_id,
                "org_id": p.org_id,
                "org_path": p.org_path,
                "read_at": now,
                # A reader acknowledges as a person: a unit added later inherits the acknowledgement.
                "acked_at": min((r.acked_at for r in existing if r.acked_at is not None), default=None),
            }
            for p in missing
        ]
        db.execute(_insert_ignoring_duplicates(db), rows)
    read_at = min([r.read_at for r in existing] + ([now] if missing else []))
    acked_at = min((r.acked_at for r in existing if r.acked_at is not None), default=None)
    return ReceiptState(read_at=read_at, acked_at=acked_at, units=[p.org_id for p in reached])


def _insert_ignoring_duplicates(db: Session) -> Any:
    dialect = db.get_bind().dialect.name
    table = cast(Table, NoticeReceipt.__table__)
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    if dialect == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing()
    return insert(table)
