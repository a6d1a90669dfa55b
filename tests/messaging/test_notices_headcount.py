"""The headcount (staff per unit and set of roles) follows identity's memberships: new staff are folded in
by the roll-up itself; anything else (a removed membership, one the headcount missed) is found by the
background check, which rebuilds it; either way it equals a count made from the memberships themselves."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from zerotrip.identity import actions
from zerotrip.identity.models import Membership, Organisation
from zerotrip.messaging import rollups_headcount
from zerotrip.messaging.models_notices import HeadcountState, OrgHeadcount
from zerotrip.messaging.notices_targeting import ROLE_BITS, role_bit

from .notices_world import PASSWORD_HASH, ROOT, NoticesWorld, build_notices_world


@pytest.fixture
def world(db: Session) -> NoticesWorld:
    return build_notices_world(db)


def counted_from_memberships(db: Session) -> dict[tuple[int, int], tuple[str, str, int]]:
    masks: dict[tuple[object, int], int] = {}
    where: dict[int, tuple[str, str]] = {}
    for account_id, org_id, path, division, role in db.execute(
        select(
            Membership.account_id,
            Membership.org_id,
            Membership.org_path,
            Organisation.division_code,
            Membership.role,
        ).join(Organisation, Organisation.id == Membership.org_id)
    ):
        masks[(account_id, org_id)] = masks.get((account_id, org_id), 0) | role_bit(role)
        where[org_id] = (path, division)
    counts = Counter((org_id, mask) for (_, org_id), mask in masks.items())
    return {key: (*where[key[0]], n) for key, n in counts.items()}


def headcount(db: Session) -> dict[tuple[int, int], tuple[str, str, int]]:
    return {
        (h.org_id, h.role_mask): (h.org_path, h.division_code, h.staff)
        for h in db.scalars(select(OrgHeadcount).execution_options(populate_existing=True))
    }


def state(db: Session) -> tuple[int, int]:
    s = db.execute(select(HeadcountState).execution_options(populate_existing=True)).scalar_one()
    return s.membership_max_id, s.membership_count


def test_first_use_builds_it_and_it_matches_the_memberships(db: Session, world: NoticesWorld) -> None:
    assert db.get(HeadcountState, 1) is None
    rollups_headcount.ensure_headcount(db)
    assert headcount(db) == counted_from_memberships(db)
    xh = world.orgs["330106-emergency"]
    # 王发布 holds two roles there: one person with both bits, not two.
    both = ROLE_BITS["notice_publisher"] | ROLE_BITS["reviewer"]
    assert headcount(db)[(xh, both)][2] == 1
    assert headcount(db)[(xh, 1)][2] == 1  # 陈值班, a member without a role


def test_new_staff_are_folded_in_without_a_rebuild(
    db: Session, world: NoticesWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    rollups_headcount.ensure_headcount(db)
    xh = world.orgs["330106-emergency"]
    for login, role in (
        ("xh-em-2", "site_operator"),
        ("xh-em-2", None),
        ("xh-em-9", None),
        ("xh-em-1", None),
    ):
        actions.add_staff_member(
            db,
            actor=ROOT,
            org_id=xh,
            login_name=login,
            display_name=login,
            role=role,
            password_hash=PASSWORD_HASH,
        )
    db.flush()

    def no_rebuild(*args: object, **kwargs: object) -> int:
        raise AssertionError("new memberships alone are folded in")

    monkeypatch.setattr(rollups_headcount, "rebuild_headcount", no_rebuild)
    rollups_headcount.ensure_headcount(db)
    assert headcount(db) == counted_from_memberships(db)
    max_id = db.scalar(select(Membership.id).order_by(Membership.id.desc()).limit(1))
    assert state(db) == (max_id, db.query(Membership).count())
    # 陈值班 moved from "member" to "member and site operator"; 冯审核 from reviewer to reviewer and member.
    assert headcount(db)[(xh, 1 | ROLE_BITS["site_operator"])][2] == 1
    assert headcount(db)[(xh, 1 | ROLE_BITS["reviewer"])][2] == 1
    assert headcount(db)[(xh, 1)][2] == 1  # the new member without a role


def test_a_removed_or_missed_membership_is_found_by_the_check(db: Session, world: NoticesWorld) -> None:
    rollups_headcount.ensure_headcount(db)
    db.execute(delete(Membership).where(Membership.org_id == world.orgs["330203-emergency"]))
    # A roll-up's cheap look (the highest id) does not see a removal; the background check does.
    rollups_headcount.ensure_headcount(db)
    assert any(org_id == world.orgs["330203-emergency"] for org_id, _ in headcount(db))
    assert rollups_headcount.verify_headcount(db) is True
    assert headcount(db) == counted_from_memberships(db)
    assert not any(org_id == world.orgs["330203-emergency"] for org_id, _ in headcount(db))
    assert rollups_headcount.verify_headcount(db) is False

    # A membership committed late under a lower id than one already folded in.
    actions.add_staff_member(
        db,
        actor=ROOT,
        org_id=world.orgs["330108-emergency"],
        login_name="late",
        display_name="迟到",
        role=None,
    )
    db.flush()
    row = db.get(HeadcountState, 1)
    assert row is not None
    row.membership_max_id += 1  # as if the newest id had been folded while this one was still in flight
    db.flush()
    rollups_headcount.ensure_headcount(db)
    assert headcount(db) != counted_from_memberships(db)
    assert rollups_headcount.verify_headcount(db) is True
    assert headcount(db) == counted_from_memberships(db)
