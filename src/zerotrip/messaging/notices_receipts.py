"""Read receipts and acknowledgements (回执): written when a staff member reads or acknowledges, one row
for each of their units the notice reached them in, and counted in that unit's tally of the notice in the
same transaction. Actions add and flush; the caller commits.

Reading twice, or from two devices at once, leaves one receipt and counts once: the insert skips a
receipt that exists and only what it inserted is counted; acknowledging counts only the receipts it
changed. On PostgreSQL marking read is one statement (``notices_receipts_pg``); on SQLite, which has no
data-modifying CTEs, it is the notice with its targets, the receipt insert and the tally upsert.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, select, true, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from zerotrip.audit.actions import record_event
from zerotrip.common import clock
from zerotrip.identity.actor import Actor
from zerotrip.messaging import notices_receipts_pg as receipts_pg
from zerotrip.messaging.errors_notices import AckNotRequired, NoticeNotFound, NoticeStateConflict, StaffOnly
from zerotrip.messaging.models_notices import Notice, NoticeReceipt, NoticeTally, NoticeTarget
from zerotrip.messaging.notices_inbox import VISIBLE_TO_RECIPIENTS
from zerotrip.messaging.notices_targeting import Position, Target, positions_of, reached_positions
from zerotrip.messaging.schemas_notices import ReceiptState

ACKNOWLEDGED = "messaging.notice.acknowledged"


def mark_read(db: Session, *, actor: Actor, notice_id: int) -> ReceiptState:
    """Record that the actor has read a notice addressed to them (again: nothing changes). Raises
    StaffOnly, NoticeNotFound (also when the notice is not addressed to them)."""
    if db.get_bind().dialect.name == "postgresql":
        return receipts_pg.mark_read(db, actor=actor, notice_id=notice_id)
    addressed = _addressed(db, actor, notice_id)
    return _read(db, actor, addressed)


def acknowledge(db: Session, *, actor: Actor, notice_id: int) -> ReceiptState:
    """Acknowledge a notice that asks for it (which also reads it); audited. Acknowledging again changes
    nothing. Raises StaffOnly, NoticeNotFound, AckNotRequired, NoticeStateConflict (withdrawn)."""
    addressed = _addressed(db, actor, notice_id)
    if not addressed.requires_ack:
        raise AckNotRequired()
    if addressed.status != "published":
        raise NoticeStateConflict("the notice was withdrawn; there is nothing to acknowledge")
    state = _read(db, actor, addressed)
    if state.acked_at is not None:
        return state
    now = clock.now()
    acked_units = db.scalars(
        update(NoticeReceipt)
        .where(
            NoticeReceipt.notice_id == notice_id,
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
            .where(NoticeTally.notice_id == notice_id, NoticeTally.org_id.in_(sorted(acked_units)))
            .values(acked_count=NoticeTally.acked_count + 1)
            .execution_options(synchronize_session=False)
        )
    record_event(
        db,
        actor=actor.principal,
        action=ACKNOWLEDGED,
        subject_type="notice",
        subject_id=str(notice_id),
        data={"units": [p.org_id for p in addressed.reached]},
    )
    return ReceiptState(read_at=state.read_at, acked_at=now, units=state.units)


@dataclass(frozen=True)
class _Addressed:
    notice_id: int
    status: str
    requires_ack: bool
    reached: list[Position]


def _addressed(db: Session, actor: Actor, notice_id: int) -> _Addressed:
    """The notice's state and the actor's units it reached them in, read in one statement (the notice
    with its targets). Raises StaffOnly, NoticeNotFound (not visible, or not addressed to the actor)."""
    if actor.kind != "staff":
        raise StaffOnly()
    rows = db.execute(
        select(
            Notice.status,
            Notice.requires_ack,
            NoticeTarget.scope_path,
            NoticeTarget.division_prefix,
            NoticeTarget.role_mask,
        )
        .join(NoticeTarget, NoticeTarget.notice_id == Notice.id)
        .where(Notice.id == notice_id, Notice.status.in_(VISIBLE_TO_RECIPIENTS))
    ).all()
    targets = [Target(r.scope_path, r.division_prefix, r.role_mask) for r in rows]
    reached = reached_positions(targets, positions_of(actor))
    if not reached:
        raise NoticeNotFound()
    return _Addressed(notice_id, rows[0].status, rows[0].requires_ack, reached)


def _read(db: Session, actor: Actor, addressed: _Addressed) -> ReceiptState:
    """Insert a receipt for each reached unit that has none and count the inserted ones in the tallies.
    The first read (nearly every call) is two statements; a repeated read finds what was there."""
    now = clock.now()
    units = [p.org_id for p in addressed.reached]
    rows = [
        {
            "notice_id": addressed.notice_id,
            "account_id": actor.account_id,
            "org_id": p.org_id,
            "org_path": p.org_path,
            "read_at": now,
            "acked_at": None,
        }
        for p in sorted(addressed.reached, key=lambda p: p.org_id)
    ]
    # Reading twice, or two requests of the same reader at once: what exists is skipped and not counted.
    inserted = db.execute(
        _upsert(db, NoticeReceipt)
        .values(rows)
        .on_conflict_do_nothing()
        .returning(NoticeReceipt.org_id, NoticeReceipt.org_path)
    ).all()
    if len(inserted) == len(rows):
        _count_reads(db, addressed.notice_id, sorted((r.org_id, r.org_path) for r in inserted), acked=False)
        return ReceiptState(read_at=now, acked_at=None, units=units)
    new = {r.org_id for r in inserted}
    earlier = db.execute(
        select(NoticeReceipt.read_at, NoticeReceipt.acked_at).where(
            NoticeReceipt.notice_id == addressed.notice_id,
            NoticeReceipt.account_id == actor.account_id,
            NoticeReceipt.org_id.not_in(new) if new else true(),
        )
    ).all()
    read_at = min(r.read_at for r in earlier)
    acked_at = min((r.acked_at for r in earlier if r.acked_at is not None), default=None)
    if new:
        if acked_at is not None:
            # A reader acknowledges as a person: a unit the notice now reaches them in inherits it.
            db.execute(
                update(NoticeReceipt)
                .where(
                    NoticeReceipt.notice_id == addressed.notice_id,
                    NoticeReceipt.account_id == actor.account_id,
                    NoticeReceipt.org_id.in_(sorted(new)),
                )
                .values(acked_at=acked_at)
                .execution_options(synchronize_session=False)
            )
        _count_reads(
            db,
            addressed.notice_id,
            sorted((r.org_id, r.org_path) for r in inserted),
            acked=acked_at is not None,
        )
    return ReceiptState(read_at=read_at, acked_at=acked_at, units=units)


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
