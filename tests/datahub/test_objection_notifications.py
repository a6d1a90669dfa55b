"""The citizen who raised an objection is notified of the answer (through messaging's outbox)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from zerotrip.datahub import objections
from zerotrip.messaging.models_notifications import Delivery, Notification

from .conftest import DatahubWorld
from .sharing_world import citizen, grant_real_estate, load_titles
from .test_objections import object_to


def notifications_of(db: Session, person_id: object) -> list[Notification]:
    return list(db.scalars(select(Notification).where(Notification.person_id == person_id)))


def test_the_citizen_is_told_of_a_correction(db: Session, hub: DatahubWorld) -> None:
    me, person = citizen(db, hub, 0)
    load_titles(db, hub)
    objection = object_to(db, hub, me)
    assert notifications_of(db, person.id) == []
    objections.answer_objection(
        db, actor=hub.steward, number=objection.number, outcome="corrected", answer="经核实已更正"
    )
    (told,) = notifications_of(db, person.id)
    assert told.template == "datahub.objection.corrected"
    assert told.params["number"] == objection.number
    assert told.params["field_title"] == "建筑面积（平方米）"
    assert told.params["answer"] == "经核实已更正"
    assert told.link == "/me/objections"
    (inbox,) = db.scalars(select(Delivery).where(Delivery.notification_id == told.id))
    assert (inbox.channel, inbox.status) == ("inbox", "pending")


def test_the_citizen_is_told_of_a_rejection(db: Session, hub: DatahubWorld) -> None:
    me, person = citizen(db, hub, 0)
    load_titles(db, hub)
    objection = object_to(db, hub, me)
    objections.answer_objection(
        db, actor=hub.steward, number=objection.number, outcome="rejected", answer="登记面积与测绘一致"
    )
    (told,) = notifications_of(db, person.id)
    assert told.template == "datahub.objection.rejected"
    assert told.kind == "objection_answered"


def test_a_consumers_objection_notifies_no_citizen(db: Session, hub: DatahubWorld) -> None:
    _, person = citizen(db, hub, 0)
    load_titles(db, hub)
    grant_real_estate(db, hub)
    objection = object_to(db, hub, hub.consumer_actor(db))
    objections.answer_objection(
        db, actor=hub.steward, number=objection.number, outcome="rejected", answer="不改"
    )
    assert db.scalars(select(Notification)).all() == []
    assert notifications_of(db, person.id) == []
