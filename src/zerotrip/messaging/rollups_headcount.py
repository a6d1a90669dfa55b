"""Staff per unit and set of roles (``messaging_org_headcount``), derived from identity's memberships.

A roll-up needs, per unit, how many staff a notice reached there. Counting the memberships of a province
of a million staff for every roll-up would read a million rows; the headcount holds one row per unit and
set of roles held there (a few thousand rows for the province), from which the recipients of any target
are a sum. A staff member counts once in each unit they work in, with the set of roles they hold there.

The headcount remembers the memberships it was derived from: the highest id and how many there were. A
roll-up first calls ``ensure_headcount``, which reads identity's highest membership id (one index probe)
and, when staff were added, folds just those memberships in. Anything else (a membership removed, or one
committed late under a lower id than one already folded) shows as a difference in the number of
memberships, which ``verify_headcount`` checks in the background (counting a million memberships takes a
third of a second, too much for every roll-up) and answers by rebuilding the table from one statement, so
the counts and the watermark always come from the same rows. Refreshers take turns on the state row's
lock.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, delete, func, insert, literal, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from zerotrip.common import clock
from zerotrip.identity import staff_queries
from zerotrip.messaging.models_notices import HeadcountState, OrgHeadcount
from zerotrip.messaging.notices_targeting import MEMBER_BIT, ROLE_BITS

STATE_ID = 1


def ensure_headcount(db: Session) -> datetime:
    """Fold memberships added since the headcount was derived into it (a roll-up calls this first); returns
    when it was last derived. Looks only at the highest membership id, one index probe; writes only when
    there are new memberships. Anything else (a membership removed, one committed late under a lower id)
    is found by ``verify_headcount``, which a running server calls every
    ``notices.headcount_check_seconds``."""
    max_id = staff_queries.max_membership_id(db)
    state = db.get(HeadcountState, STATE_ID)
    if state is not None and state.membership_max_id == max_id:
        return state.refreshed_at
    state = _locked_state(db)
    if state.membership_max_id == staff_queries.max_membership_id(db):
        return state.refreshed_at  # another refresher did it while we waited for the lock
    if state.membership_max_id < 0 or state.membership_max_id > max_id or not _fold_in_new(db, state):
        rebuild_headcount(db, state)
    return state.refreshed_at


def verify_headcount(db: Session) -> bool:
    """Compare the headcount's watermark (highest id and number of memberships) with identity's table in
    one statement (a count of every membership: a background duty, not a request's) and rebuild it when
    they differ; True when it was rebuilt."""
    state = db.get(HeadcountState, STATE_ID)
    if state is not None and (
        state.membership_max_id,
        state.membership_count,
    ) == staff_queries.membership_watermark(db):
        return False
    state = _locked_state(db)
    if (state.membership_max_id, state.membership_count) == staff_queries.membership_watermark(db):
        return False
    rebuild_headcount(db, state)
    return True


def rebuild_headcount(db: Session, state: HeadcountState | None = None) -> int:
    """Derive the whole headcount again from the memberships; returns the number of rows."""
    if state is None:
        state = _locked_state(db)
    if db.get_bind().dialect.name == "postgresql":
        # Grouping a million memberships by person and unit in memory rather than in temporary files.
        db.execute(select(func.set_config("work_mem", "256MB", True)))
    positions = _positions().subquery()
    max_id, count = staff_queries.watermark_columns()
    rows = db.execute(
        select(
            positions.c.org_id,
            positions.c.org_path,
            positions.c.division_code,
            positions.c.mask,
            func.count(),
            max_id,
            count,
        ).group_by(positions.c.org_id, positions.c.org_path, positions.c.division_code, positions.c.mask)
    ).all()
    db.execute(delete(OrgHeadcount))
    if rows:
        db.execute(
            insert(OrgHeadcount),
            [
                {"org_id": r[0], "org_path": r[1], "division_code": r[2], "role_mask": r[3], "staff": r[4]}
                for r in rows
            ],
        )
        state.membership_max_id, state.membership_count = int(rows[0][5]), int(rows[0][6])
    else:
        state.membership_max_id, state.membership_count = staff_queries.membership_watermark(db)
    state.refreshed_at = clock.now()
    db.flush()
    return len(rows)


def _mask(role: ColumnElement[Any], when: ColumnElement[bool] | None = None) -> ColumnElement[int]:
    """The set of roles held, as a sum of one MAX per bit (a person may hold a role only once per unit,
    but may be a member without a role more than once)."""
    known = tuple(ROLE_BITS)
    terms: list[ColumnElement[int]] = []
    for bit_role, bit in [(None, MEMBER_BIT), *ROLE_BITS.items()]:
        held = or_(role.is_(None), role.not_in(known)) if bit_role is None else role == bit_role
        condition = held if when is None else and_(when, held)
        terms.append(func.max(case((condition, literal(bit)), else_=literal(0))))
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    return total


def _positions() -> Any:
    """One row per person and unit, with the set of roles they hold there."""
    m = staff_queries.memberships_select().subquery()
    return select(
        m.c.account_id,
        m.c.org_id,
        m.c.org_path,
        m.c.division_code,
        _mask(m.c.role).label("mask"),
    ).group_by(m.c.account_id, m.c.org_id, m.c.org_path, m.c.division_code)


def _fold_in_new(db: Session, state: HeadcountState) -> bool:
    """Move each person and unit touched by memberships newer than the state's from the old set of roles
    to the new one. False when there are none to fold (the caller rebuilds)."""
    since = state.membership_max_id
    m = staff_queries.memberships_select().subquery()
    touched = select(m.c.account_id, m.c.org_id).where(m.c.membership_id > since).distinct().subquery()
    all_m = staff_queries.memberships_select().subquery()
    rows = db.execute(
        select(
            all_m.c.org_id,
            all_m.c.org_path,
            all_m.c.division_code,
            _mask(all_m.c.role, all_m.c.membership_id <= since).label("old_mask"),
            _mask(all_m.c.role).label("new_mask"),
            func.sum(case((all_m.c.membership_id > since, 1), else_=0)).label("added"),
            func.max(all_m.c.membership_id).label("newest"),
        )
        .join(
            touched,
            and_(touched.c.account_id == all_m.c.account_id, touched.c.org_id == all_m.c.org_id),
        )
        .group_by(all_m.c.account_id, all_m.c.org_id, all_m.c.org_path, all_m.c.division_code)
    ).all()
    if not rows:
        return False
    deltas: dict[tuple[int, int], int] = defaultdict(int)
    where: dict[int, tuple[str, str]] = {}
    for r in rows:
        where[r.org_id] = (r.org_path, r.division_code)
        if r.old_mask:
            deltas[(r.org_id, int(r.old_mask))] -= 1
        deltas[(r.org_id, int(r.new_mask))] += 1
    existing = {
        (h.org_id, h.role_mask): h
        for h in db.scalars(select(OrgHeadcount).where(OrgHeadcount.org_id.in_(list(where))))
    }
    for (org_id, mask), delta in deltas.items():
        if delta == 0:
            continue
        row = existing.get((org_id, mask))
        if row is None:
            path, division = where[org_id]
            db.add(
                OrgHeadcount(
                    org_id=org_id, role_mask=mask, org_path=path, division_code=division, staff=delta
                )
            )
        elif row.staff + delta == 0:
            db.delete(row)
        else:
            row.staff += delta
    state.membership_max_id = max(int(r.newest) for r in rows)
    state.membership_count += sum(int(r.added) for r in rows)
    state.refreshed_at = clock.now()
    db.flush()
    return True


def _locked_state(db: Session) -> HeadcountState:
    """The state row, created if missing (a watermark of -1: never derived), locked until the commit."""
    dialect = db.get_bind().dialect.name
    values = {"id": STATE_ID, "membership_max_id": -1, "membership_count": -1, "refreshed_at": clock.now()}
    if dialect == "postgresql":
        db.execute(postgresql.insert(HeadcountState).values(**values).on_conflict_do_nothing())
    elif dialect == "sqlite":
        db.execute(sqlite.insert(HeadcountState).values(**values).on_conflict_do_nothing())
    elif db.get(HeadcountState, STATE_ID) is None:
        db.add(HeadcountState(**values))
        db.flush()
    return db.execute(
        select(HeadcountState)
        .where(HeadcountState.id == STATE_ID)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()
