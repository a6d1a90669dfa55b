"""The staff workflow through its actions: routing by the applicant's division, the steps in order,
deadlines in working days, supplement requests that pause the clock, refusal with reasons, withdrawal,
overdue escalation with a fixed clock, and who may see and act on what."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from zerotrip.audit.models import AuditEvent
from zerotrip.common import clock
from zerotrip.common.clock import CHINA
from zerotrip.keys import KeyStore
from zerotrip.problems import NotAllowed, ValidationFailed
from zerotrip.services import (
    application_queries,
    applying,
    reviewing,
    supplements,
    wallet_evidence,
    workflow_queries,
)
from zerotrip.services.errors import (
    ApplicationClosed,
    ApplicationNotFound,
    InvalidSupplementRequest,
    InvalidUpload,
    ReviewNotAllowed,
    SupplementIncomplete,
    WrongStep,
)
from zerotrip.services.models import Application, Evidence, Transition
from zerotrip.services.workflow_schemas import SupplementItemSpec

from .workflow_world import PDF, WorkflowWorld, submitted_application

# Monday 2 March 2026, 09:00 in Hangzhou; the 5-working-day promise ends at midnight after Monday 9 March.
MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=CHINA).astimezone(UTC)
DUE = datetime(2026, 3, 10, 0, 0, tzinfo=CHINA)


def _events(db: Session, number: str) -> list[str]:
    rows = db.scalars(
        select(AuditEvent.action)
        .where(AuditEvent.subject_type == "service_application", AuditEvent.subject_id == number)
        .order_by(AuditEvent.id)
    )
    return list(rows)


def _log(db: Session, application: Application) -> list[tuple[str | None, str, str | None]]:
    rows = db.scalars(
        select(Transition).where(Transition.application_id == application.id).order_by(Transition.id)
    )
    return [(t.from_status, t.to_status, t.step) for t in rows]


def test_an_application_goes_to_the_bureau_of_the_applicants_district(
    db: Session, workflow_world: WorkflowWorld, keys: KeyStore
) -> None:
    w = workflow_world
    mine = submitted_application(db, w, w.xihu_resident, keys)
    theirs = submitted_application(db, w, w.yuhang_resident, keys)
    assert (mine.department_org_id, theirs.department_org_id) == (w.xihu_civil_id, w.yuhang_civil_id)
    assert [s["kind"] for s in theirs.steps] == ["accept", "review", "review", "decide", "issue"]
    # A city-level item stays with its own department whoever applies.
    fund = applying.start_application(db, actor=w.yuhang_resident.actor, item_code=w.apply.withdrawal.code)
    assert fund.department_org_id == w.apply.fund_id


def test_the_steps_in_order_to_the_decision_letter(
    db: Session, workflow_world: WorkflowWorld, keys: KeyStore
) -> None:
    w = workflow_world
    with clock.frozen(MONDAY):
        application = submitted_application(db, w, w.xihu_resident, keys)
    assert application.status == "submitted" and application.due_at == DUE
    number = application.number
    with pytest.raises(WrongStep):  # nothing is decided before acceptance and the reviews
        reviewing.approve_application(
            db, actor=w.xihu_reviewer, number=number, keys=keys, settings=w.settings
        )
    reviewing.accept_application(db, actor=w.xihu_reviewer, number=number, note="材料齐全")
    assert application.status == "accepted" and application.accepted_at is not None
    with pytest.raises(WrongStep):  # accepted already
        reviewing.accept_application(db, actor=w.xihu_reviewer, number=number)
    with pytest.raises(ValidationFailed):
        reviewing.complete_review(db, actor=w.xihu_reviewer, number=number, note=" ")
    reviewing.complete_review(db, actor=w.xihu_reviewer, number=number, note="符合救助条件")
    with pytest.raises(WrongStep):  # the home visit is still to come
        reviewing.approve_application(
            db, actor=w.xihu_reviewer, number=number, keys=keys, settings=w.settings
        )
    reviewing.complete_review(db, actor=w.xihu_reviewer, number=number, note="入户核查属实")
    with pytest.raises(WrongStep):
        reviewing.complete_review(db, actor=w.xihu_reviewer, number=number, note="again")
    reviewing.approve_application(db, actor=w.xihu_reviewer, number=number, keys=keys, settings=w.settings)
    assert application.status == "approved" and application.decided_by == w.xihu_reviewer.principal
    assert application.result_certificate_number is not None
    assert _log(db, application) == [
        (None, "draft", None),
        ("draft", "submitted", None),
        ("submitted", "accepted", "受理"),
        ("accepted", "in_review", "初审"),
        ("in_review", "in_review", "入户核查"),
        ("in_review", "approved", "决定"),
    ]
    assert _events(db, number)[-4:] == [
        "services.application.accepted",
        "services.application.reviewed",
        "services.application.reviewed",
        "services.application.approved",
    ]
    read = application_queries.application_read(db, application, actor=w.xihu_resident.actor)
    assert read.workflow is not None
    assert all(s.is_done for s in read.workflow.steps) and read.workflow.can_rate
    with pytest.raises(ApplicationClosed):
        applying.withdraw_application(db, actor=w.xihu_resident.actor, number=number)


def test_a_supplement_request_lists_everything_at_once_and_pauses_the_clock(
    db: Session, workflow_world: WorkflowWorld, keys: KeyStore
) -> None:
    w = workflow_world
    reviewer, citizen = w.xihu_reviewer, w.xihu_resident.actor
    with clock.frozen(MONDAY) as frozen:
        application = submitted_application(db, w, w.xihu_resident, keys)
        number = application.number
        reviewing.accept_application(db, actor=reviewer, number=number)
        for bad, pointer in (
            ([], "#/items"),
            ([SupplementItemSpec(material=7, detail="x")], "#/items/0/material"),
            (
                [SupplementItemSpec(material=1, detail="x"), SupplementItemSpec(material=1, detail="y")],
                "#/items/1/material",
            ),
        ):
            with pytest.raises(InvalidSupplementRequest) as refused:
                reviewing.request_supplement(db, actor=reviewer, number=number, items=bad)
            assert pointer in {e["pointer"] for e in refused.value.errors}
        frozen.advance(timedelta(days=1))  # Tuesday
        request = reviewing.request_supplement(
            db,
            actor=reviewer,
            number=number,
            items=[
                SupplementItemSpec(material=1, detail="困难情况证明未加盖村（社区）公章"),
                SupplementItemSpec(detail="请说明家庭成员的就业情况"),
            ],
            note="请一并补正",
        )
        assert application.status == "supplement" and application.resume_status == "accepted"
        assert request.sequence == 1 and application.paused_at == frozen.at
        # Paused: never overdue, and no review move is possible.
        assert not reviewing.flag_overdue_applications(db, now=DUE + timedelta(days=30))
        with pytest.raises(ApplicationClosed):
            reviewing.complete_review(db, actor=reviewer, number=number, note="x")
        frozen.advance(timedelta(days=2))  # Thursday
        with pytest.raises(SupplementIncomplete) as incomplete:
            supplements.resubmit_application(db, actor=citizen, number=number, settings=w.settings)
        assert {e["pointer"] for e in incomplete.value.errors} == {"#/items/0", "#/items/1"}
        with pytest.raises(InvalidUpload):  # the free-text item takes words
            supplements.answer_with_file(
                db,
                actor=citizen,
                number=number,
                position=1,
                filename="a.pdf",
                content=PDF,
                settings=w.settings,
            )
        with pytest.raises(ValidationFailed):  # and the material item a file
            supplements.answer_in_words(db, actor=citizen, number=number, position=0, text="x")
        before = db.scalar(
            select(Evidence).where(Evidence.application_id == application.id, Evidence.position == 1)
        )
        assert before is not None
        old_sha = before.upload_sha256
        stamped = PDF + b"%stamped\n"
        answered = supplements.answer_with_file(
            db,
            actor=citizen,
            number=number,
            position=0,
            filename="盖章.pdf",
            content=stamped,
            settings=w.settings,
        )
        assert answered.replaced is not None and answered.replaced["upload_sha256"] == old_sha
        assert before.upload_sha256 == answered.upload_sha256 != old_sha
        supplements.answer_in_words(db, actor=citizen, number=number, position=1, text="夫妻二人均无固定工作")
        with pytest.raises(ApplicationNotFound):  # the reviewer cannot answer for the applicant
            supplements.resubmit_application(db, actor=reviewer, number=number, settings=w.settings)
        supplements.resubmit_application(db, actor=citizen, number=number, settings=w.settings)
    # Paused Tuesday, resumed Thursday: Wednesday and Thursday are added to the deadline.
    assert application.status == "accepted" and application.paused_at is None
    assert request.paused_working_days == 2 and application.paused_working_days == 2
    assert application.due_at == DUE + timedelta(days=2)
    assert _log(db, application)[-2:] == [
        ("accepted", "supplement", "初审"),
        ("supplement", "accepted", "初审"),
    ]
    read = application_queries.application_read(db, application, actor=reviewer)
    assert read.workflow is not None
    (shown,) = read.workflow.supplements
    assert [i.material_name for i in shown.items] == ["困难情况证明", None]
    assert shown.items[1].answer_text == "夫妻二人均无固定工作"
    # The reviews go on from where they were.
    reviewing.complete_review(db, actor=reviewer, number=number, note="符合条件")
    with pytest.raises(ApplicationClosed):  # nothing to answer any more
        supplements.answer_in_words(db, actor=citizen, number=number, position=1, text="x")


def test_refusal_needs_reasons_and_gives_the_written_decision(
    db: Session, workflow_world: WorkflowWorld, keys: KeyStore
) -> None:
    w = workflow_world
    application = submitted_application(db, w, w.yuhang_resident, keys)
    number = application.number
    with pytest.raises(ValidationFailed):
        reviewing.refuse_application(
            db, actor=w.yuhang_reviewer, number=number, reasons=[" "], keys=keys, settings=w.settings
        )
    reviewing.refuse_application(
        db,
        actor=w.yuhang_reviewer,
        number=number,
        reasons=["家庭人均收入高于当地最低生活保障标准", "未提供有效困难证明"],
        keys=keys,
        settings=w.settings,
    )
    assert application.status == "refused" and application.refusal_reasons is not None
    assert len(application.refusal_reasons) == 2
    assert application.decision_text is not None and "1. 家庭人均收入" in application.decision_text
    assert application.result_certificate_number is not None  # the written refusal, in the wallet
    assert _log(db, application)[-1] == ("submitted", "refused", "受理")
    assert _events(db, number)[-1] == "services.application.refused"


def test_the_applicant_withdraws_at_any_step_not_yet_decided(
    db: Session, workflow_world: WorkflowWorld, keys: KeyStore
) -> None:
    w = workflow_world
    citizen = w.xihu_resident.actor
    first = submitted_application(db, w, w.xihu_resident, keys)
    reviewing.accept_application(db, actor=w.xihu_reviewer, number=first.number)
    applying.withdraw_application(db, actor=citizen, number=first.number, reason="情况好转")
    assert first.status == "withdrawn"
    second = submitted_application(db, w, w.xihu_resident, keys)
    reviewing.request_supplement(
        db, actor=w.xihu_reviewer, number=second.number, items=[SupplementItemSpec(detail="补充说明")]
    )
    applying.withdraw_application(db, actor=citizen, number=second.number)
    assert second.status == "withdrawn" and second.paused_at is None
    with pytest.raises(ApplicationClosed):
        reviewing.accept_application(db, actor=w.xihu_reviewer, number=second.number)


def test_overdue_applications_are_escalated_once_to_the_office_above(
    db: Session, workflow_world: WorkflowWorld, keys: KeyStore
) -> None:
    w = workflow_world
    with clock.frozen(MONDAY):
        late = submitted_application(db, w, w.xihu_resident, keys)
    assert late.due_at == DUE
    with pytest.raises(ApplicationNotFound):  # before escalation the city bureau does not see it
        application_queries.get_application(db, actor=w.city_reviewer, number=late.number)
    assert reviewing.flag_overdue_applications(db, now=DUE - timedelta(seconds=1)) == []
    with clock.frozen(DUE + timedelta(hours=9)):
        queue, _ = workflow_queries.list_queue(db, actor=w.xihu_reviewer, is_overdue=True)
        assert [e.number for e in queue] == [late.number] and queue[0].is_overdue
        assert [a.number for a in reviewing.flag_overdue_applications(db)] == [late.number]
        assert reviewing.flag_overdue_applications(db) == []  # once
    assert late.escalated_to_org_id == w.city_civil_id and late.escalated_at == DUE + timedelta(hours=9)
    event = db.scalar(
        select(AuditEvent).where(
            AuditEvent.subject_id == late.number, AuditEvent.action == reviewing.ESCALATED
        )
    )
    assert event is not None and event.data["escalated_to"] == "330100-civil"
    # The city bureau now reads it and finds it among what was escalated to it, but does not act on it.
    assert application_queries.get_application(db, actor=w.city_reviewer, number=late.number).id == late.id
    escalated, total = workflow_queries.list_queue(db, actor=w.city_reviewer, is_escalated=True)
    assert (total, escalated[0].number, escalated[0].is_escalated) == (1, late.number, True)
    with pytest.raises(ReviewNotAllowed):
        reviewing.accept_application(db, actor=w.city_reviewer, number=late.number)
    # The office still handles it; a decided application is never overdue.
    reviewing.refuse_application(
        db, actor=w.xihu_reviewer, number=late.number, reasons=["不符合条件"], keys=keys, settings=w.settings
    )
    with clock.frozen(DUE + timedelta(days=3)):
        assert workflow_queries.list_queue(db, actor=w.xihu_reviewer, is_overdue=True) == ([], 0)


def test_staff_of_one_district_neither_see_nor_act_on_anothers_applications(
    db: Session, workflow_world: WorkflowWorld, keys: KeyStore
) -> None:
    w = workflow_world
    xihu = submitted_application(db, w, w.xihu_resident, keys)
    yuhang = submitted_application(db, w, w.yuhang_resident, keys)
    for stranger, number in ((w.yuhang_reviewer, xihu.number), (w.xihu_reviewer, yuhang.number)):
        with pytest.raises(ApplicationNotFound):
            application_queries.get_application(db, actor=stranger, number=number)
        with pytest.raises(ApplicationNotFound):
            reviewing.accept_application(db, actor=stranger, number=number)
        with pytest.raises(ApplicationNotFound):
            reviewing.request_supplement(
                db, actor=stranger, number=number, items=[SupplementItemSpec(detail="x")]
            )
    for outsider in (w.renter_reviewer, w.city_reviewer, w.yuhang_resident.actor):
        with pytest.raises(ApplicationNotFound):
            application_queries.get_application(db, actor=outsider, number=xihu.number)
    queue, total = workflow_queries.list_queue(db, actor=w.yuhang_reviewer)
    assert (total, [e.number for e in queue]) == (1, [yuhang.number])
    # The district's platform administrator reads its bureau's applications but does not handle them.
    admin_queue, _ = workflow_queries.list_queue(db, actor=w.xihu_admin)
    assert [e.number for e in admin_queue] == [xihu.number]
    with pytest.raises(ReviewNotAllowed):
        reviewing.accept_application(db, actor=w.xihu_admin, number=xihu.number)
    with pytest.raises(NotAllowed):
        workflow_queries.list_queue(db, actor=w.xihu_resident.actor)
    mine, total = application_queries.list_own_applications(db, actor=w.yuhang_resident.actor)
    assert (total, [a.number for a in mine]) == (1, [yuhang.number])


def test_the_queue_filters_and_puts_the_soonest_due_first(
    db: Session, workflow_world: WorkflowWorld, keys: KeyStore
) -> None:
    w = workflow_world
    with clock.frozen(MONDAY + timedelta(days=1)):
        later = submitted_application(db, w, w.xihu_resident, keys)
    with clock.frozen(MONDAY):
        sooner = submitted_application(db, w, w.xihu_resident, keys)
    reviewing.accept_application(db, actor=w.xihu_reviewer, number=later.number)
    queue, total = workflow_queries.list_queue(db, actor=w.xihu_reviewer)
    assert (total, [e.number for e in queue]) == (2, [sooner.number, later.number])
    assert [e.current_step for e in queue] == ["受理", "初审"]
    accepted, _ = workflow_queries.list_queue(db, actor=w.xihu_reviewer, status="accepted")
    assert [e.number for e in accepted] == [later.number]
    assert workflow_queries.list_queue(db, actor=w.xihu_reviewer, status="approved") == ([], 0)
    with clock.frozen(DUE):
        overdue, _ = workflow_queries.list_queue(db, actor=w.xihu_reviewer, is_overdue=True)
    assert [e.number for e in overdue] == [sooner.number]


def test_an_instant_item_referred_to_a_person_is_handled_in_the_workflow(
    db: Session, workflow_world: WorkflowWorld, keys: KeyStore
) -> None:
    w = workflow_world
    renter = w.apply.renter.actor
    draft = applying.start_application(db, actor=renter, item_code=w.apply.withdrawal.code)
    applying.consent_and_fetch(
        db,
        actor=renter,
        number=draft.number,
        settings=w.settings.services,
        wallet=wallet_evidence.WalletAccess(keys=keys, settings=w.settings),
    )
    referred = applying.submit_application(
        db, actor=renter, number=draft.number, keys=keys, settings=w.settings, pledge=True, human_review=True
    )
    assert referred.status == "in_review" and referred.steps[referred.step_index or 0]["kind"] == "review"
    reviewing.complete_review(db, actor=w.apply.fund_reviewer, number=referred.number, note="核实无误")
    reviewing.approve_application(
        db, actor=w.apply.fund_reviewer, number=referred.number, keys=keys, settings=w.settings
    )
    assert referred.status == "approved" and referred.result_certificate_number is not None
