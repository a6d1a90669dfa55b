"""Acceptance: targeting is exact over the demo's whole province (1,326 units, three staff in every
department, built by the demo builders through identity's actions). A notice to 西湖区's emergency
management staff reaches every one of them and nobody else: by the rule reading applies for each of the
3,673 staff, in the SQL that lists those who have not read, in the inbox of everyone near them, in what
reading allows, and in the roll-up."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from zerotrip.demo.orgs import build_org_tree
from zerotrip.demo.staff import build_staff
from zerotrip.identity import actions
from zerotrip.identity.actor import Actor, Grant
from zerotrip.identity.models import Account, Membership, Organisation
from zerotrip.messaging import notices, notices_queries, notices_receipts, rollups
from zerotrip.messaging.errors_notices import NoticeNotFound
from zerotrip.messaging.notices_targeting import positions_of, reached_positions
from zerotrip.messaging.schemas_notices import NoticeCreate, TargetSpec

from .notices_world import ROOT, SETTINGS

XIHU = "330106"


def every_staff_actor(db: Session) -> dict[str, Actor]:
    grants: dict[str, list[Grant]] = {}
    names: dict[str, tuple[object, str]] = {}
    for login, account_id, display, org_id, path, division, role in db.execute(
        select(
            Account.login_name,
            Account.id,
            Account.display_name,
            Membership.org_id,
            Membership.org_path,
            Organisation.division_code,
            Membership.role,
        )
        .join(Membership, Membership.account_id == Account.id)
        .join(Organisation, Organisation.id == Membership.org_id)
        .order_by(Membership.id)
    ):
        grants.setdefault(login, []).append(Grant(org_id, path, division, role))
        names[login] = (account_id, display)
    return {
        login: Actor(kind="staff", name=names[login][1], account_id=names[login][0], grants=tuple(g))  # type: ignore[arg-type]
        for login, g in grants.items()
    }


def test_a_notice_to_one_countys_emergency_staff_reaches_them_and_nobody_else(db: Session) -> None:
    tree = build_org_tree(db, actor=ROOT)
    plan = build_staff(db, actor=ROOT, org_tree=tree, per_department=3)
    actions.add_staff_member(
        db,
        actor=ROOT,
        org_id=tree.province.id,
        login_name="zj-notice",
        display_name="省发布",
        role="notice_publisher",
    )
    db.flush()
    staff = every_staff_actor(db)
    assert len(staff) == len(plan) + 1 == 3_673
    bureau = tree.department(XIHU, "emergency")
    expected = {s.login_name for s in plan if s.org_code == bureau.code}
    assert len(expected) == 3

    notice = notices.create_notice(
        db,
        actor=staff["zj-notice"],
        spec=NoticeCreate(
            title="西湖区防汛防台紧急部署",
            body="请立即到岗。",
            priority="urgent",
            requires_ack=True,
            targets=[TargetSpec(org_id=bureau.id)],
            publish=True,
        ),
        settings=SETTINGS,
    )
    db.flush()

    # Every staff member of the province, by the rule reading applies; the set the SQL of the roll-up's
    # drill-down selects from all memberships; and the inbox query for everyone in 杭州市 and the province's
    # own departments (the inbox for all 3,673 takes a minute on a loaded machine).
    targets = notices_queries.notice_targets(db, notice.id)
    by_rule = {login for login, actor in staff.items() if reached_positions(targets, positions_of(actor))}
    assert by_rule == expected
    everyone = rollups.list_non_readers(
        db, actor=staff["zj-notice"], notice_id=notice.id, unit_id=tree.province.id
    )
    assert {p.account_id for p in everyone.items} == {staff[login].account_id for login in expected}
    near = [
        login
        for login, actor in staff.items()
        if any(g.division_code.startswith("3301") or g.division_code == "330000" for g in actor.grants)
    ]
    assert len(near) > 500
    in_inbox = {
        login
        for login in near
        if any(
            i.id == notice.id for i in notices_queries.list_inbox(db, actor=staff[login], per_page=5).items
        )
    }
    assert in_inbox == expected

    # Neighbours who might be confused with them: the county's other bureaus, the city's and the
    # province's emergency staff, and 西湖区's namesakes elsewhere.
    neighbours = [
        s.login_name
        for s in plan
        if s.org_code in (tree.department(XIHU, "health").code, tree.department("330100", "emergency").code)
        or s.org_code
        in (tree.department("330000", "emergency").code, tree.department("330108", "emergency").code)
    ]
    assert len(neighbours) == 12
    for login in neighbours:
        try:
            notices_receipts.mark_read(db, actor=staff[login], notice_id=notice.id)
        except NoticeNotFound:
            continue
        raise AssertionError(f"{login} could read a notice not addressed to them")
    for login in sorted(expected)[:2]:
        notices_receipts.acknowledge(db, actor=staff[login], notice_id=notice.id)

    province = rollups.rollup(db, actor=staff["zj-notice"], notice_id=notice.id)
    assert (province.unit.recipients, province.unit.read, province.unit.acked) == (3, 2, 2)
    assert {(c.name, c.recipients) for c in province.children if c.recipients} == {("杭州市", 3)}
    county = rollups.rollup(db, actor=staff["zj-notice"], notice_id=notice.id, unit_id=tree.region(XIHU).id)
    assert [(c.name, c.recipients, c.read) for c in county.children if c.recipients] == [
        ("西湖区应急管理局", 3, 2)
    ]
    missing = rollups.list_non_readers(
        db, actor=staff["zj-notice"], notice_id=notice.id, unit_id=tree.province.id
    )
    assert [p.account_id for p in missing.items] == [
        staff[login].account_id for login in sorted(expected)[2:]
    ]
