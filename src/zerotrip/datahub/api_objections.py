"""Objections over JSON (included by ``datahub.api`` under /api/datahub)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from zerotrip.config import Settings
from zerotrip.datahub import objections
from zerotrip.datahub.schemas_sharing import (
    ObjectionAnswer,
    ObjectionAnswered,
    ObjectionCreate,
    ObjectionRead,
)
from zerotrip.db import transaction
from zerotrip.deps import DB, CurrentActor, get_settings

router = APIRouter(tags=["datahub: objections"])
AppSettings = Annotated[Settings, Depends(get_settings)]


class ObjectionPage(BaseModel):
    items: list[ObjectionRead]
    total: int
    page: int
    per_page: int


@router.post("/objections", response_model=ObjectionRead, status_code=201, summary="Object to a value")
def raise_objection(
    body: ObjectionCreate, db: DB, actor: CurrentActor, settings: AppSettings
) -> ObjectionRead:
    """The data subject (a signed-in citizen) or a consumer with a live grant flags a value as wrong."""
    with transaction(db):
        objection = objections.raise_objection(
            db,
            actor=actor,
            resource_code=body.resource_code,
            key=body.key,
            field=body.field,
            claim=body.claim,
            proposed_value=body.proposed_value,
            evidence=body.evidence,
            settings=settings.datahub,
        )
        return objections.objection_read(db, objection)


@router.get("/objections", response_model=ObjectionPage, summary="Objections to answer (stewards)")
def list_objections(
    db: DB,
    actor: CurrentActor,
    status: Literal["open", "corrected", "rejected"] | None = Query(None),
    page: int = Query(1, ge=1),
    per_page: int = Query(20, ge=1, le=100),
) -> ObjectionPage:
    rows, total = objections.list_objections(db, actor=actor, status=status, page=page, per_page=per_page)
    items = [objections.objection_read(db, o) for o in rows]
    return ObjectionPage(items=items, total=total, page=page, per_page=per_page)


@router.post(
    "/objections/{number}/answer", response_model=ObjectionAnswered, summary="Correct or reject (steward)"
)
def answer_objection(number: str, body: ObjectionAnswer, db: DB, actor: CurrentActor) -> ObjectionAnswered:
    """A correction writes a new version of the record and names the consumers that read the wrong value."""
    with transaction(db):
        answered = objections.answer_objection(
            db,
            actor=actor,
            number=number,
            outcome=body.outcome,
            answer=body.answer,
            corrected_value=body.corrected_value,
        )
        return ObjectionAnswered(
            objection=objections.objection_read(db, answered.objection),
            consumers_to_tell=answered.consumers_to_tell,
        )


@router.get("/me/objections", response_model=list[ObjectionRead], summary="My objections (citizens)")
def my_objections(db: DB, actor: CurrentActor) -> list[ObjectionRead]:
    return [objections.objection_read(db, o) for o in objections.list_own_objections(db, actor=actor)]
