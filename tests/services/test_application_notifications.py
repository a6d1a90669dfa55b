"""The person who filed an application is notified (through messaging) of its decision and of a referral
to a person; not of their own steps (submitting, withdrawing)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from zerotrip.keys import KeyStore
from zerotrip.messaging.models_notifications import Notification
from zerotrip.services import applying

from .apply_world import ApplyWorld, Citizen
from .test_applications import WITHDRAWAL, apply


def told(db: Session, citizen: Citizen) -> list[Notification]:
    assert citizen.actor.person_id is not None
    return list(
        db.scalars(
            select(Notification)
            .where(Notification.person_id == citizen.actor.person_id)
            .order_by(Notification.created_at)
        )
    )


def test_an_instant_approval_is_told_once_with_the_item_and_a_link(
    db: Session, apply_world: ApplyWorld, keys: KeyStore
) -> None:
    application = apply(db, apply_world, apply_world.renter, keys)
    assert application.status == "approved"
    # The decision letter in the wallet is not announced separately: the approval says it.
    (approved,) = told(db, apply_world.renter)
    assert approved.template == "services.application.approved"
    assert approved.kind == "application_decided"
    assert approved.params["number"] == application.number
    assert approved.params["item_name"] == apply_world.withdrawal.name
    assert approved.link == f"/me/applications/{application.number}"


def test_a_referral_to_a_person_is_told(db: Session, apply_world: ApplyWorld, keys: KeyStore) -> None:
    application = apply(db, apply_world, apply_world.owner, keys)
    assert application.status == "in_review"
    (referred,) = told(db, apply_world.owner)
    assert referred.template == "services.application.referred"
    assert referred.params["reason"] == application.review_reason


def test_the_applicants_own_steps_are_not_told(db: Session, apply_world: ApplyWorld) -> None:
    renter = apply_world.renter
    draft = applying.start_application(db, actor=renter.actor, item_code=WITHDRAWAL)
    applying.withdraw_application(db, actor=renter.actor, number=draft.number, reason="不需要了")
    assert told(db, renter) == []
