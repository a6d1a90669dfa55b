"""Report-back (报送): each unit answers once, amends with an audit trail, and the answers sum up the tree;
and the staff directory, within what the searcher may see."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from zerotrip.audit.models import AuditEvent
from zerotrip.messaging import directory, reports
from zerotrip.messaging.errors_notices import (
    DirectoryNotAllowed,
    FollowNotAllowed,
    InvalidReport,
    NoReportForm,
    NoticeNotFound,
    ReportNotAllowed,
)
from zerotrip.messaging.models_notices import ReportValue
from zerotrip.messaging.notices import withdraw_notice
from zerotrip.messaging.schemas_notices import TargetSpec
from zerotrip.problems import ValidationFailed

from .notices_world import NoticesWorld, build_notices_world

FORM = [
    {"key": "evacuated", "label": "转移人数", "unit": "人"},
    {"key": "shelters", "label": "开放避灾点", "unit": "个"},
]


@pytest.fixture
def world(db: Session) -> NoticesWorld:
    return build_notices_world(db)


def test_answers_sum_up_the_tree(db: Session, world: NoticesWorld) -> None:
    notice = world.publish(db, form=FORM, targets=[TargetSpec(roles=["reviewer"])])
    answers = {
        "xh-em-1": {"evacuated": 1200, "shelters": 8},  # 西湖区应急管理局
        "xh-health-1": {"evacuated": 30, "shelters": 1},  # 西湖区卫健局
        "bj-em-1": {"evacuated": 300, "shelters": 2},  # 滨江区应急管理局
        "hs-em-1": {"evacuated": 4500, "shelters": 20},  # 海曙区应急管理局
    }
    for login, values in answers.items():
        reports.answer_report(db, actor=world.staff[login], notice_id=notice.id, values=values)
    publisher = world.staff["zj-pub"]
    province = reports.report_sums(db, actor=publisher, notice_id=notice.id)
    assert province.unit.totals == {"evacuated": 6030, "shelters": 31}
    by_child = {c.name: (c.totals, c.answered, c.expected) for c in province.children}
    assert by_child["杭州市"] == ({"evacuated": 1530, "shelters": 11}, 3, 3)
    assert by_child["宁波市"] == ({"evacuated": 4500, "shelters": 20}, 1, 1)
    assert by_child["浙江省应急管理厅"] == ({"evacuated": 0, "shelters": 0}, 0, 1)
    county = reports.report_sums(db, actor=publisher, notice_id=notice.id, unit_id=world.orgs["330106"])
    assert county.unit.totals == {"evacuated": 1230, "shelters": 9}
    own = reports.report_sums(
        db, actor=publisher, notice_id=notice.id, unit_id=world.orgs["330106-emergency"]
    )
    assert own.own is not None and own.own.answered_by_name == "冯审核" and own.children == []

    # A county bureau's publisher follows their own bureau only.
    mine = reports.report_sums(
        db, actor=world.staff["xh-em-pub"], notice_id=notice.id, unit_id=world.orgs["330106-emergency"]
    )
    assert mine.unit.totals == {"evacuated": 1200, "shelters": 8}
    with pytest.raises(FollowNotAllowed):
        reports.report_sums(
            db, actor=world.staff["xh-em-pub"], notice_id=notice.id, unit_id=world.orgs["330106"]
        )


def test_one_answer_per_unit_amended_with_an_audit_trail(db: Session, world: NoticesWorld) -> None:
    notice = world.publish(
        db, "hz-pub", form=FORM, targets=[TargetSpec(org_id=world.orgs["330106-emergency"])]
    )
    first = reports.answer_report(
        db, actor=world.staff["xh-em-1"], notice_id=notice.id, values={"evacuated": 100, "shelters": 2}
    )
    amended = reports.answer_report(
        db, actor=world.staff["xh-em-3"], notice_id=notice.id, values={"evacuated": 180, "shelters": 3}
    )
    assert amended.id == first.id and amended.revision == 2 and amended.answered_by_name == "褚数据"
    values = db.execute(
        select(ReportValue.field_key, ReportValue.value).where(ReportValue.notice_id == notice.id)
    )
    assert sorted(values) == [("evacuated", 180), ("shelters", 3)]
    trail = db.scalars(
        select(AuditEvent)
        .where(AuditEvent.action.in_([reports.ANSWERED, reports.AMENDED]))
        .order_by(AuditEvent.id)
    ).all()
    assert [(e.action, e.actor) for e in trail] == [
        (reports.ANSWERED, world.staff["xh-em-1"].principal),
        (reports.AMENDED, world.staff["xh-em-3"].principal),
    ]
    assert trail[1].data["before"] == {"evacuated": 100, "shelters": 2}
    assert trail[1].data["after"] == {"evacuated": 180, "shelters": 3}
    sums = reports.report_sums(db, actor=world.staff["hz-pub"], notice_id=notice.id)
    assert sums.unit.totals == {"evacuated": 180, "shelters": 3} and sums.unit.answered == 1


def test_answers_are_checked(db: Session, world: NoticesWorld) -> None:
    notice = world.publish(db, form=FORM, targets=[TargetSpec(division_code="330100")])
    two = world.staff["two-units"]
    with pytest.raises(InvalidReport) as several:
        reports.answer_report(db, actor=two, notice_id=notice.id, values={"evacuated": 1, "shelters": 1})
    assert several.value.errors[0]["pointer"] == "#/org_id"
    answer = reports.answer_report(
        db,
        actor=two,
        notice_id=notice.id,
        org_id=world.orgs["330108-emergency"],
        values={"evacuated": 1, "shelters": 0},
    )
    assert answer.org_path == world.paths["330108-emergency"]
    with pytest.raises(ReportNotAllowed):
        reports.answer_report(
            db,
            actor=two,
            notice_id=notice.id,
            org_id=world.orgs["330106-emergency"],
            values={"evacuated": 1, "shelters": 1},
        )
    for values in ({"evacuated": 1}, {"evacuated": 1, "shelters": -2}, {"evacuated": True, "shelters": 1}):
        with pytest.raises(InvalidReport):
            reports.answer_report(db, actor=world.staff["xh-em-1"], notice_id=notice.id, values=values)  # type: ignore[arg-type]
    with pytest.raises(NoticeNotFound):
        reports.answer_report(
            db, actor=world.staff["hs-em-1"], notice_id=notice.id, values={"evacuated": 1, "shelters": 1}
        )
    plain = world.publish(db)
    with pytest.raises(NoReportForm):
        reports.answer_report(db, actor=world.staff["xh-em-1"], notice_id=plain.id, values={})
    withdraw_notice(db, actor=world.staff["zj-pub"], notice_id=notice.id)
    with pytest.raises(Exception, match="withdrawn"):
        reports.answer_report(
            db, actor=world.staff["xh-em-1"], notice_id=notice.id, values={"evacuated": 1, "shelters": 1}
        )


def test_directory_search_within_the_searchers_subtree(db: Session, world: NoticesWorld) -> None:
    hz = world.staff["hz-pub"]
    everyone_in_hz = directory.search_staff(db, actor=hz, per_page=100)
    assert everyone_in_hz.total == 11  # memberships under 杭州市 (王发布 holds two roles, 韩双岗 two units)
    assert "沈审核" not in {e.display_name for e in everyone_in_hz.items}
    reviewers = directory.search_staff(db, actor=hz, role="reviewer", unit_id=world.orgs["330106"])
    assert sorted(e.display_name for e in reviewers.items) == ["冯审核", "卫审核", "王发布", "韩双岗"]
    by_name = directory.search_staff(db, actor=world.staff["xh-em-1"], q="发布")
    assert [(e.display_name, e.role) for e in by_name.items] == [
        ("王发布", "notice_publisher"),
        ("王发布", "reviewer"),
    ]
    by_login = directory.search_staff(db, actor=world.staff["zj-admin"], q="hs-")
    assert [e.display_name for e in by_login.items] == ["沈审核"]
    assert directory.search_staff(db, actor=hz, q="100%").total == 0
    with pytest.raises(DirectoryNotAllowed):
        directory.search_staff(db, actor=world.staff["xh-em-1"], unit_id=world.orgs["330106"])
    with pytest.raises(ValidationFailed):
        directory.search_staff(db, actor=hz, role="mayor")
