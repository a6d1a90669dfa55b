"""Objections: who may raise them, the steward's answer, corrections as new versions, who must be told."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from zerotrip.common import clock
from zerotrip.common.clock import CHINA
from zerotrip.datahub import gateway, objections, records
from zerotrip.datahub.errors import (
    NotSteward,
    ObjectionClosed,
    ObjectionNotAllowed,
    ObjectionNotFound,
    RecordNotFound,
)
from zerotrip.datahub.models import Objection, Record
from zerotrip.identity.actor import Actor
from zerotrip.problems import NotAllowed, ValidationFailed

from .conftest import DatahubWorld
from .sharing_world import (
    PURPOSE,
    SETTINGS,
    citizen,
    grant_real_estate,
    load_titles,
    second_consumer,
    sign_in,
    title_data,
)

MONDAY = datetime(2024, 6, 3, 9, 0, tzinfo=CHINA).astimezone(UTC)


def key(hub: DatahubWorld, resident: int, n: int) -> dict[str, str]:
    return {"certificate_no": title_data(hub, resident, n)["certificate_no"]}


def object_to(
    db: Session, hub: DatahubWorld, actor: Actor, resident: int = 0, n: int = 1, **kw: str
) -> Objection:
    options = {"field": "area", "claim": "面积登记有误，实测为 92.30 平方米", "proposed_value": "92.30"} | kw
    return objections.raise_objection(
        db,
        actor=actor,
        resource_code=hub.real_estate.code,
        key=key(hub, resident, n),
        evidence="测绘报告 CH-2024-118",
        settings=SETTINGS,
        **options,
    )


def record_of(db: Session, hub: DatahubWorld, resident: int, n: int) -> Record:
    record = db.scalar(select(Record).where(Record.record_key == key(hub, resident, n)["certificate_no"]))
    assert record is not None
    return record


def test_objection_round_trip_makes_a_new_version_and_a_visible_answer(
    db: Session, hub: DatahubWorld
) -> None:
    me, _ = citizen(db, hub, 0)
    load_titles(db, hub)
    grant_real_estate(db, hub)
    gateway.lookup(
        db,
        actor=hub.consumer_actor(db),
        resource_code=hub.real_estate.code,
        subject_keys=[hub.residents[0]],
        purpose=PURPOSE,
    )
    with clock.frozen(MONDAY):
        objection = object_to(db, hub, me)
    assert objection.number.startswith("OB") and len(objection.number) == 12
    assert objection.status == "open"
    assert objection.due_at == datetime(2024, 6, 18, tzinfo=CHINA)  # ten working days
    rows, total = objections.list_objections(db, actor=hub.steward, status="open")
    assert [o.number for o in rows] == [objection.number] and total == 1

    answered = objections.answer_objection(
        db,
        actor=hub.steward,
        number=objection.number,
        outcome="corrected",
        answer="经核实测绘报告，已更正建筑面积",
    )
    record = record_of(db, hub, 0, 1)
    assert record.version == 2 and record.data["area"] == "92.3"  # stored as a load would store it
    states = records.list_record_versions(db, record=record)
    assert [s.version for s in states] == [1, 2] and states[0].data["area"] != "92.3"
    assert states[1].changed_by == hub.steward.principal and states[1].batch_id is None
    assert answered.objection.corrected_version == 2
    assert [c.client_id for c in answered.consumers_to_tell] == [hub.consumer.client_id]
    told = answered.consumers_to_tell[0]
    assert told.name == "一网通办平台" and told.org_name == "浙江省数据局"

    (mine,) = objections.list_own_objections(db, actor=me)
    view = objections.objection_read(db, mine)
    assert view.status == "corrected" and view.answer == "经核实测绘报告，已更正建筑面积"
    assert view.field_title == "建筑面积（平方米）" and view.record == key(hub, 0, 1)
    with pytest.raises(ObjectionClosed):
        objections.answer_objection(
            db, actor=hub.steward, number=objection.number, outcome="rejected", answer="x"
        )


def test_only_readers_of_the_field_since_the_wrong_value_are_told(db: Session, hub: DatahubWorld) -> None:
    me, _ = citizen(db, hub, 0)
    load_titles(db, hub)
    grant_real_estate(db, hub)
    other = second_consumer(db, hub)
    grant_real_estate(db, hub, fields=["holder_name"], consumer=other)
    gateway.lookup(
        db, actor=other, resource_code=hub.real_estate.code, subject_keys=[hub.residents[0]], purpose=PURPOSE
    )
    objection = object_to(db, hub, me)
    answered = objections.answer_objection(
        db,
        actor=hub.steward,
        number=objection.number,
        outcome="corrected",
        answer="已更正",
        corrected_value="92.3",
    )
    assert answered.consumers_to_tell == []  # the other consumer never read the area
    assert record_of(db, hub, 0, 1).data["area"] == "92.3"


def test_rejection_keeps_the_value_and_answers(db: Session, hub: DatahubWorld) -> None:
    me, _ = citizen(db, hub, 0)
    load_titles(db, hub)
    objection = object_to(db, hub, me, n=2)
    with pytest.raises(ValidationFailed):
        objections.answer_objection(
            db, actor=hub.steward, number=objection.number, outcome="rejected", answer=" "
        )
    with pytest.raises(NotSteward):
        objections.answer_objection(
            db, actor=Actor(kind="staff", grants=()), number=objection.number, outcome="rejected", answer="no"
        )
    with pytest.raises(ObjectionNotFound):
        objections.answer_objection(
            db, actor=hub.steward, number="OB2222222222", outcome="rejected", answer="no"
        )
    answered = objections.answer_objection(
        db, actor=hub.steward, number=objection.number, outcome="rejected", answer="登记面积与测绘成果一致"
    )
    assert answered.objection.status == "rejected" and answered.consumers_to_tell == []
    assert record_of(db, hub, 0, 2).version == 1
    # A record's key is corrected by reloading it, not through an objection.
    wrong_key = object_to(
        db, hub, me, n=2, field="certificate_no", proposed_value="浙(2023)杭州市不动产权第0009999号"
    )
    with pytest.raises(ValidationFailed):
        objections.answer_objection(
            db, actor=hub.steward, number=wrong_key.number, outcome="corrected", answer="x"
        )


def test_a_citizen_objects_only_to_their_own_records(db: Session, hub: DatahubWorld) -> None:
    me, _ = citizen(db, hub, 0)
    load_titles(db, hub)
    with pytest.raises(ObjectionNotAllowed):
        object_to(db, hub, me, resident=1)  # someone else's title
    with pytest.raises(ObjectionNotAllowed):
        object_to(db, hub, me, resident=0, n=9)  # no such title: the same answer
    with pytest.raises(ValidationFailed):
        object_to(db, hub, me, field="nope")
    with pytest.raises(NotAllowed):
        object_to(db, hub, hub.steward)


def test_a_consumer_objects_within_its_grant(db: Session, hub: DatahubWorld) -> None:
    load_titles(db, hub)
    grant_real_estate(db, hub, fields=["holder_name", "area"])
    consumer = hub.consumer_actor(db)
    with pytest.raises(ObjectionNotAllowed):
        object_to(db, hub, consumer, field="usage")
    with pytest.raises(RecordNotFound):
        object_to(db, hub, consumer, n=9)
    objection = object_to(db, hub, consumer, resident=1)
    assert objection.raised_by == f"client:{hub.consumer.client_id}"
    assert [o.number for o in objections.list_objections(db, actor=consumer)[0]] == [objection.number]
    assert objections.list_objections(db, actor=second_consumer(db, hub)) == ([], 0)


def test_objection_api(client: TestClient, db: Session, hub: DatahubWorld) -> None:
    citizen(db, hub, 0)
    load_titles(db, hub)
    csrf = sign_in(client, db, "citizen0", portal="citizen")
    body = {
        "resource_code": hub.real_estate.code,
        "key": key(hub, 0, 1),
        "field": "usage",
        "claim": "用途应为商业",
        "proposed_value": "商业",
    }
    raised = client.post("/api/datahub/objections", json=body, headers=csrf)
    assert raised.status_code == 201, raised.text
    number = raised.json()["number"]
    assert raised.json()["status"] == "open" and raised.json()["field_title"] == "用途"
    assert client.get("/api/datahub/objections").status_code == 403
    client.cookies.clear()

    steward = sign_in(client, db, "hz-land-steward")
    listed = client.get("/api/datahub/objections", params={"status": "open"}).json()
    assert [o["number"] for o in listed["items"]] == [number]
    answer = {"outcome": "corrected", "answer": "已按不动产权籍调查更正"}
    answered = client.post(f"/api/datahub/objections/{number}/answer", json=answer, headers=steward)
    assert answered.status_code == 200, answered.text
    assert answered.json()["objection"]["corrected_version"] == 2
    assert answered.json()["consumers_to_tell"] == []
    client.cookies.clear()

    sign_in(client, db, "citizen0", portal="citizen")
    (mine,) = client.get("/api/datahub/me/objections").json()
    assert mine["status"] == "corrected" and mine["answer"] == "已按不动产权籍调查更正"


def test_a_correction_must_pass_the_fields_rules(db: Session, hub: DatahubWorld) -> None:
    """A steward's corrected value is checked like a loaded one: the decimal area refuses text."""
    me, _ = citizen(db, hub, 0)
    load_titles(db, hub)
    objection = object_to(db, hub, me, proposed_value="about ninety")
    with pytest.raises(ValidationFailed):
        objections.answer_objection(
            db, actor=hub.steward, number=objection.number, outcome="corrected", answer="改"
        )
    assert record_of(db, hub, 0, 1).version == 1
    answered = objections.answer_objection(
        db,
        actor=hub.steward,
        number=objection.number,
        outcome="corrected",
        answer="改",
        corrected_value="90.50",
    )
    assert answered.objection.status == "corrected"
    assert record_of(db, hub, 0, 1).data["area"] == "90.5"
