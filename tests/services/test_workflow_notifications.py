"""The person who filed an application hears (through messaging's notifications) of its acceptance, each
supplement request with what is missing, a referral to a person and the decision; not of review steps,
nor of their own moves."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from zerotrip.keys import KeyStore
from zerotrip.messaging.models_notifications import Notification
from zerotrip.services import applying, reviewing, supplements, wallet_evidence
from zerotrip.services.workflow_schemas import SupplementItemSpec

from .apply_world import Citizen
from .workflow_world import WorkflowWorld, submitted_application


def told(db: Session, citizen: Citizen) -> list[tuple[str, str]]:
    assert citizen.actor.person_id is not None
    rows = db.scalars(
        select(Notification)
        .where(Notification.person_id == citizen.actor.person_id)
        .order_by(Notification.created_at)
    )
    return [(n.template.removeprefix("services.application."), n.params.get("reason", "")) for n in rows]


def test_the_applicant_hears_of_each_step_the_office_takes(
    db: Session, workflow_world: WorkflowWorld, keys: KeyStore
) -> None:
    w = workflow_world
    citizen, reviewer = w.yuhang_resident, w.yuhang_reviewer
    number = submitted_application(db, w, citizen, keys).number
    assert told(db, citizen) == []  # submitting is their own step
    reviewing.accept_application(db, actor=reviewer, number=number)
    for detail in ("请补充收入证明", "请补充村委会证明"):
        reviewing.request_supplement(
            db, actor=reviewer, number=number, items=[SupplementItemSpec(detail=detail)]
        )
        supplements.answer_in_words(db, actor=citizen.actor, number=number, position=0, text="已补充")
        supplements.resubmit_application(db, actor=citizen.actor, number=number, settings=w.settings)
    reviewing.complete_review(db, actor=reviewer, number=number, note="初审通过")
    reviewing.refuse_application(
        db, actor=reviewer, number=number, reasons=["收入超过标准"], keys=keys, settings=w.settings
    )
    assert told(db, citizen) == [
        ("accepted", ""),
        ("supplement", "请补充收入证明"),
        ("supplement", "请补充村委会证明"),
        ("refused", "收入超过标准"),
    ]
    notification = db.scalar(
        select(Notification).where(Notification.template == "services.application.refused")
    )
    assert notification is not None and notification.link == f"/me/applications/{number}"


def test_an_instant_decision_and_a_referral_are_told(
    db: Session, workflow_world: WorkflowWorld, keys: KeyStore
) -> None:
    w = workflow_world
    renter = w.apply.renter
    draft = applying.start_application(db, actor=renter.actor, item_code=w.apply.withdrawal.code)
    applying.consent_and_fetch(
        db,
        actor=renter.actor,
        number=draft.number,
        settings=w.settings.services,
        wallet=wallet_evidence.WalletAccess(keys=keys, settings=w.settings),
    )
    applying.submit_application(
        db, actor=renter.actor, number=draft.number, keys=keys, settings=w.settings, pledge=True
    )
    assert told(db, renter) == [("approved", "instant approval: every rule passed")]
    owner = w.apply.owner
    draft = applying.start_application(db, actor=owner.actor, item_code=w.apply.withdrawal.code)
    applying.consent_and_fetch(
        db,
        actor=owner.actor,
        number=draft.number,
        settings=w.settings.services,
        wallet=wallet_evidence.WalletAccess(keys=keys, settings=w.settings),
    )
    referred = applying.submit_application(
        db, actor=owner.actor, number=draft.number, keys=keys, settings=w.settings, pledge=True
    )
    assert told(db, owner) == [("referred", referred.review_reason)]
