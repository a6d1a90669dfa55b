"""The inbox, reading and acknowledging: exact targeting, order, receipts written once, and staff who
cannot read what is not addressed to them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from zerotrip.audit.models import AuditEvent
from zerotrip.common import clock
from zerotrip.identity import actions
from zerotrip.identity.actor import Actor
from zerotrip.messaging import notices_queries, notices_receipts
from zerotrip.messaging.errors_notices import AckNotRequired, NoticeNotFound, NoticeStateConflict, StaffOnly
from zerotrip.messaging.models_notices import NoticeReceipt, NoticeTally
from zerotrip.messaging.notices import withdraw_notice
from zerotrip.messaging.schemas_notices import TargetSpec

from .notices_world import ROOT, STAFF, NoticesWorld, build_notices_world

LOGINS = sorted({login for login, *_ in STAFF})


@pytest.fixture
def world(db: Session) -> NoticesWorld:
    return build_notices_world(db)


def inbox_ids(db: Session, actor: Actor, **kwargs: object) -> list[int]:
    return [i.id for i in notices_queries.list_inbox(db, actor=actor, per_page=100, **kwargs).items]  # type: ignore[arg-type]


def reached_logins(db: Session, world: NoticesWorld, notice_id: int) -> set[str]:
    return {login for login in LOGINS if notice_id in inbox_ids(db, world.staff[login])}


def test_each_target_reaches_exactly_its_staff(db: Session, world: NoticesWorld) -> None:
    cases = {
        # A county's emergency bureau: its four staff (one of them with two roles there), nobody else.
        "xh-emergency": (
            [TargetSpec(org_id=world.orgs["330106-emergency"])],
            {"xh-em-pub", "xh-em-1", "xh-em-2", "xh-em-3"},
        ),
        # Reviewers anywhere under 西湖区.
        "xh-reviewers": (
            [TargetSpec(org_id=world.orgs["330106"], roles=["reviewer"])],
            {"xh-em-pub", "xh-em-1", "xh-health-1", "two-units"},
        ),
        # The region 330108 (滨江区) within the province, and the province's own emergency department.
        "binjiang-and-province-emergency": (
            [TargetSpec(division_code="330108"), TargetSpec(org_id=world.orgs["330000-emergency"])],
            {"bj-em-1", "two-units", "zj-em-1"},
        ),
        # Site operators in 滨江区 only: the role and the unit are held together.
        "site-operators-in-binjiang": (
            [TargetSpec(division_code="330108", roles=["site_operator"])],
            {"two-units"},
        ),
        # Site operators in 西湖区: "two-units" is one, but not in 西湖区.
        "site-operators-in-xihu": ([TargetSpec(division_code="330106", roles=["site_operator"])], set()),
        "everyone": ([TargetSpec()], set(LOGINS)),
    }
    for name, (targets, expected) in cases.items():
        notice = world.publish(db, targets=targets, title=name)
        assert reached_logins(db, world, notice.id) == expected, name
        for login in LOGINS:
            if login in expected:
                notices_queries.get_notice(db, actor=world.staff[login], notice_id=notice.id)
            elif login not in ("zj-pub", "zj-pub2", "zj-admin"):  # those over the publisher see every notice
                with pytest.raises(NoticeNotFound):
                    notices_queries.get_notice(db, actor=world.staff[login], notice_id=notice.id)
                with pytest.raises(NoticeNotFound):
                    notices_receipts.mark_read(db, actor=world.staff[login], notice_id=notice.id)


def test_unread_urgent_first_then_newest(db: Session, world: NoticesWorld) -> None:
    start = datetime(2024, 8, 9, 8, 0, tzinfo=UTC)
    made = {}
    with clock.frozen(start) as frozen:
        for name, priority in (("old-urgent", "urgent"), ("normal", "normal"), ("emergency", "emergency")):
            made[name] = world.publish(db, "hz-pub", priority=priority, title=name).id
            frozen.advance(timedelta(minutes=5))
        made["newest"] = world.publish(db, "hz-pub", title="newest").id
    reader = world.staff["xh-em-1"]
    assert inbox_ids(db, reader) == [made["emergency"], made["old-urgent"], made["newest"], made["normal"]]
    page = notices_queries.list_inbox(db, actor=reader, per_page=2, page=2)
    assert [i.id for i in page.items] == [made["newest"], made["normal"]]
    assert (page.total, page.unread) == (4, 4)
    notices_receipts.mark_read(db, actor=reader, notice_id=made["emergency"])
    # Once read, an urgent notice takes its place by date.
    assert inbox_ids(db, reader) == [made["old-urgent"], made["newest"], made["emergency"], made["normal"]]
    assert inbox_ids(db, reader, unread_only=True) == [made["old-urgent"], made["newest"], made["normal"]]
    page = notices_queries.list_inbox(db, actor=reader, page=9)
    assert page.items == [] and (page.total, page.unread) == (4, 3)
    with pytest.raises(StaffOnly):
        notices_queries.list_inbox(db, actor=Actor(kind="citizen"))


def test_reading_writes_one_receipt_per_reached_unit_once(db: Session, world: NoticesWorld) -> None:
    notice = world.publish(db, targets=[TargetSpec(division_code="330100")])
    two = world.staff["two-units"]
    first = notices_receipts.mark_read(db, actor=two, notice_id=notice.id)
    again = notices_receipts.mark_read(db, actor=two, notice_id=notice.id)
    assert sorted(first.units) == sorted([world.orgs["330106-health"], world.orgs["330108-emergency"]])
    assert again.read_at == first.read_at
    receipts = db.scalars(select(NoticeReceipt).where(NoticeReceipt.notice_id == notice.id)).all()
    assert sorted(r.org_path for r in receipts) == sorted(
        [world.paths["330106-health"], world.paths["330108-emergency"]]
    )
    # Two roles in one unit is one position, one receipt.
    notices_receipts.mark_read(db, actor=world.staff["xh-em-pub"], notice_id=notice.id)
    assert db.scalar(select(func.count()).select_from(NoticeReceipt)) == 3
    [item] = notices_queries.list_inbox(db, actor=two).items
    assert item.read_at == first.read_at and item.acked_at is None


def test_acknowledging(db: Session, world: NoticesWorld) -> None:
    asks = world.publish(db, "hz-pub", requires_ack=True, targets=[TargetSpec(division_code="330106")])
    plain = world.publish(db, "hz-pub", targets=[TargetSpec(division_code="330106")])
    reader = world.staff["xh-health-1"]
    with pytest.raises(AckNotRequired):
        notices_receipts.acknowledge(db, actor=reader, notice_id=plain.id)
    state = notices_receipts.acknowledge(db, actor=reader, notice_id=asks.id)
    assert state.read_at is not None and state.acked_at is not None  # acknowledging also reads
    assert notices_receipts.acknowledge(db, actor=reader, notice_id=asks.id).acked_at == state.acked_at
    events = db.scalars(select(AuditEvent).where(AuditEvent.action == notices_receipts.ACKNOWLEDGED)).all()
    assert [(e.actor, e.subject_id) for e in events] == [(reader.principal, str(asks.id))]
    with pytest.raises(NoticeNotFound):
        notices_receipts.acknowledge(db, actor=world.staff["bj-em-1"], notice_id=asks.id)
    read, _ = notices_queries.get_notice(db, actor=reader, notice_id=asks.id)
    assert read.id == asks.id


def test_withdrawn_and_unpublished_notices(db: Session, world: NoticesWorld) -> None:
    pending = world.publish(db, priority="emergency")
    assert pending.status == "pending_approval"
    reader = world.staff["xh-em-1"]
    assert inbox_ids(db, reader) == []
    with pytest.raises(NoticeNotFound):
        notices_receipts.mark_read(db, actor=reader, notice_id=pending.id)
    notice = world.publish(db, requires_ack=True)
    withdraw_notice(db, actor=world.staff["zj-pub"], notice_id=notice.id)
    page = notices_queries.list_inbox(db, actor=reader)
    assert [(i.id, i.status) for i in page.items] == [(notice.id, "withdrawn")] and page.unread == 0
    with pytest.raises(NoticeStateConflict):
        notices_receipts.acknowledge(db, actor=reader, notice_id=notice.id)


def test_the_notice_as_its_reader_sees_it(db: Session, world: NoticesWorld) -> None:
    notice = world.publish(
        db,
        targets=[TargetSpec(org_id=world.orgs["330106"], roles=["reviewer"])],
        links=[{"title": "台风路径", "url": "https://typhoon.example.gov.cn/lekima"}],
        form=[{"key": "evacuated", "label": "转移人数", "unit": "人"}],
    )
    reader = world.staff["xh-health-1"]
    found, reached = notices_queries.get_notice(db, actor=reader, notice_id=notice.id)
    view = notices_queries.notice_read(db, found, actor=reader, reached=reached)
    assert view.receipt is not None and view.receipt.read_at is None
    assert view.receipt.units == [world.orgs["330106-health"]]
    assert [(t.label, t.roles) for t in view.targets] == [("西湖区", ["reviewer"])]
    assert view.links[0].url.endswith("/lekima") and view.form is not None and view.form[0].unit == "人"


def test_a_unit_that_reaches_a_reader_later_inherits_their_acknowledgement(
    db: Session, world: NoticesWorld
) -> None:
    notice = world.publish(db, "hz-pub", requires_ack=True, targets=[TargetSpec(division_code="330100")])
    first = notices_receipts.acknowledge(db, actor=world.staff["xh-em-1"], notice_id=notice.id)
    actions.add_staff_member(
        db,
        actor=ROOT,
        org_id=world.orgs["330108-emergency"],
        login_name="xh-em-1",
        display_name="冯审核",
        role=None,
    )
    db.flush()
    again = notices_receipts.mark_read(db, actor=world.actor(db, "xh-em-1"), notice_id=notice.id)
    assert (again.read_at, again.acked_at) == (first.read_at, first.acked_at)
    assert sorted(again.units) == sorted([world.orgs["330106-emergency"], world.orgs["330108-emergency"]])
    receipts = db.scalars(select(NoticeReceipt).where(NoticeReceipt.notice_id == notice.id)).all()
    assert {(r.org_id, r.acked_at) for r in receipts} == {
        (world.orgs["330106-emergency"], first.acked_at),
        (world.orgs["330108-emergency"], first.acked_at),
    }
    tallies = db.scalars(select(NoticeTally).where(NoticeTally.notice_id == notice.id)).all()
    assert {(t.org_id, t.read_count, t.acked_count) for t in tallies} == {
        (world.orgs["330106-emergency"], 1, 1),
        (world.orgs["330108-emergency"], 1, 1),
    }
