"""Read receipts and acknowledgements (回执): written when a staff member reads or acknowledges, one row
for each of their units the notice reached them in, and counted in that unit's tally of the notice in the
same transaction. Actions add and flush; the caller commits.

Reading twice, or from two devices at once, leaves one receipt and counts once: the insert skips a
receipt that exists and only what it inserted is counted; acknowledging counts only the receipts it
changed.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from zerotrip.audit.actions import record_event
from zerotrip.common import clock
from zerotrip.identity.actor import Actor
from zerotrip.messaging.errors_notices import AckNotRequired, NoticeNotFound, NoticeStateConflict, StaffOnly
from zerotrip.messaging.models_notices import Notice, NoticeReceipt, NoticeTally
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
    acked_units = db.scalars(
        update(NoticeReceipt)
        .where(
            NoticeReceipt.notice_id == notice.id,
            NoticeReceipt.account_id == actor.account_id,
            NoticeReceipt.acked_at.is_(None),
        )
        .values(acked_at=now)
        .returning(NoticeReceipt.org_id)
        .execution_options(synchronize_session=False)
    ).all()
    if acked_units:
        # Another request of the same reader may have acknowledged first: only what this one changed counts.
        db.execute(
            update(NoticeTally)
            .where(NoticeTally.notice_id == notice.id, NoticeTally.org_id.in_(sorted(acked_units)))
            .values(acked_count=NoticeTally.acked_count + 1)
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
        # A reader acknowledges as a person: a unit added later inherits the acknowledgement.
        inherited = min((r.acked_at for r in existing if r.acked_at is not None), default=None)
        rows = [
            {
                "notice_id": notice.id,
                "account_id": actor.account_id,
                "org_id": p.org_id,
                "org_path": p.org_path,
                "read_at": now,
                "acked_at": inherited,
            }
            for p in sorted(missing, key=lambda p: p.org_id)
        ]
        # Two requests of the same reader at once: the second inserts nothing, and counts nothing.
        inserted = db.execute(
            _upsert(db, NoticeReceipt)
            .values(rows)
            .on_conflict_do_nothing()
            .returning(NoticeReceipt.org_id, NoticeReceipt.org_path)
        ).all()
        if inserted:
            _count_reads(
                db, notice.id, sorted((r.org_id, r.org_path) for r in inserted), acked=inherited is not None
            )
    read_at = min([r.read_at for r in existing] + ([now] if missing else []))
    acked_at = min((r.acked_at for r in existing if r.acked_at is not None), default=None)
    return ReceiptState(read_at=read_at, acked_at=acked_at, units=[p.org_id for p in reached])


def _count_reads(db: Session, notice_id: int, units: list[tuple[int, str]], *, acked: bool) -> None:
    """Add one reader to each unit's tally (in unit order, so two readers of the same units never wait
    for each other in opposite orders), as the last write before the commit: the tally's row lock is
    held only until then."""
    statement = _upsert(db, NoticeTally).values(
        [
            {
                "notice_id": notice_id,
                "org_id": org_id,
                "org_path": path,
                "read_count": 1,
                "acked_count": int(acked),
            }
            for org_id, path in units
        ]
    )
    db.execute(
        statement.on_conflict_do_update(
            index_elements=[NoticeTally.notice_id, NoticeTally.org_id],
            set_={
                "read_count": NoticeTally.read_count + statement.excluded.read_count,
                "acked_count": NoticeTally.acked_count + statement.excluded.acked_count,
            },
        )
    )


def _upsert(db: Session, model: type[NoticeReceipt] | type[NoticeTally]) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT (both engines the platform runs on have it)."""
    table = cast(Table, model.__table__)
    if db.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)
