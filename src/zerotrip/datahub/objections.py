"""Objections (异议): a citizen or a consumer flags a value as wrong; the owning steward must answer in time.

A citizen may object only to a record whose subject is their own resident ID number (and is told the same
whether or not the record exists); a consumer only to a field a live grant of theirs covers. The steward
of the owning department verifies within the configured working days and either corrects the value, which
writes a new record version through ``records.upsert_record`` (the wrong value stays in the record's
history), or rejects the objection with an answer.
A correction names the consumers that read the wrong value, from the audit log, so they can be told; a
citizen who objected is notified of the answer through messaging.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from zerotrip.audit.actions import record_event
from zerotrip.audit.queries import list_events_for_subject
from zerotrip.common import clock
from zerotrip.config import DatahubSettings
from zerotrip.datahub.errors import (
    NotSteward,
    ObjectionClosed,
    ObjectionNotAllowed,
    ObjectionNotFound,
    RecordNotFound,
)
from zerotrip.datahub.gateway import AUDITED_SUBJECTS, READ
from zerotrip.datahub.models import Objection, Record, RecordHistory, Resource
from zerotrip.datahub.numbers import normalise_number, unused_number
from zerotrip.datahub.permissions import can_steward
from zerotrip.datahub.queries import get_resource, list_fields
from zerotrip.datahub.records import record_key_of, upsert_record
from zerotrip.datahub.schemas_sharing import ConsumerToTell, ObjectionRead
from zerotrip.datahub.sharing import calendar_of
from zerotrip.datahub.sharing_queries import live_grants, stewarded_resource_ids
from zerotrip.datahub.validation import RowValidator
from zerotrip.identity import queries as identity_queries
from zerotrip.identity.actor import Actor
from zerotrip.identity.errors import OrganisationNotFound
from zerotrip.messaging import actions as messaging
from zerotrip.problems import NotAllowed, ValidationFailed

# Reads of one subject a correction looks back over; far more than any real record is read.
_READ_HISTORY = 10_000


@dataclass(frozen=True)
class Answered:
    objection: Objection
    consumers_to_tell: list[ConsumerToTell]


def raise_objection(
    db: Session,
    *,
    actor: Actor,
    resource_code: str,
    key: Mapping[str, Any],
    field: str,
    claim: str,
    proposed_value: str | None = None,
    evidence: str | None = None,
    settings: DatahubSettings,
) -> Objection:
    """Flag one field of one record (named by its key fields) as wrong.

    Raises ResourceNotFound, ValidationFailed (missing key fields, unknown field, no claim),
    ObjectionNotAllowed, RecordNotFound (consumers only), NotAllowed (anyone but citizens and consumers).
    """
    if actor.kind not in ("citizen", "client"):
        raise NotAllowed("objections are raised by the data subject or by a consumer of the data")
    if not claim.strip():
        raise ValidationFailed.field("claim", "say what is wrong")
    resource = get_resource(db, resource_code)
    if field not in {f.name for f in list_fields(db, resource.id)}:
        raise ValidationFailed.field("field", f"not a field of {resource.code}")
    missing = [name for name in resource.key_fields if name not in key]
    if missing:
        raise ValidationFailed.field("key", f"give the record's key fields: {', '.join(missing)}")
    record = db.scalar(
        select(Record).where(
            Record.resource_id == resource.id,
            Record.record_key == record_key_of(resource, dict(key)),
            Record.is_deleted.is_(False),
        )
    )
    if actor.kind == "citizen":
        own = identity_queries.get_own_person(db, actor)
        if record is None or resource.subject_kind != "resident_id" or record.subject_key != own.resident_id:
            raise ObjectionNotAllowed("you may object only to records about yourself")
    else:
        assert actor.client_id is not None
        covered = {
            name
            for g in live_grants(db, client_id=actor.client_id, resource_id=resource.id)
            for name in g.fields
        }
        if field not in covered:
            raise ObjectionNotAllowed("none of your live grants covers this field")
        if record is None:
            raise RecordNotFound()
    now = clock.now()
    objection = Objection(
        id=uuid.uuid4(),
        number=unused_number("OB", lambda n: _find(db, n) is not None),
        resource_id=resource.id,
        record_id=record.id,
        field=field,
        subject_key=record.subject_key,
        raised_by=actor.principal,
        claim=claim.strip(),
        proposed_value=proposed_value,
        evidence=evidence,
        status="open",
        raised_at=now,
        due_at=calendar_of(settings).deadline(now, settings.objection_working_days),
    )
    db.add(objection)
    record_event(
        db,
        actor=actor.principal,
        action="datahub.objection.raised",
        subject_type="objection",
        subject_id=objection.number,
        data={"resource": resource.code, "field": field, "record_version": record.version},
    )
    return objection


def answer_objection(
    db: Session,
    *,
    actor: Actor,
    number: str,
    outcome: Literal["corrected", "rejected"],
    answer: str,
    corrected_value: Any = None,
) -> Answered:
    """Correct the value (a new record version; default: the proposed value) or reject with an answer.

    A correction returns the consumers that read the field since the wrong value became current.
    Raises ObjectionNotFound, NotSteward, ObjectionClosed, ValidationFailed.
    """
    objection = _find(db, number)
    if objection is None:
        raise ObjectionNotFound()
    resource = db.get(Resource, objection.resource_id)
    record = db.get(Record, objection.record_id)
    assert resource is not None and record is not None  # foreign keys guarantee them
    if not can_steward(actor, identity_queries.get_organisation(db, resource.owner_org_id).path):
        raise NotSteward("objections are answered by the steward of the owning department")
    if objection.status != "open":
        raise ObjectionClosed()
    if not answer.strip():
        raise ValidationFailed.field("answer", "answer the objection")
    consumers: list[ConsumerToTell] = []
    if outcome == "corrected":
        value = corrected_value if corrected_value is not None else objection.proposed_value
        if value is None:
            raise ValidationFailed.field("corrected_value", "give the right value")
        if objection.field in resource.key_fields or objection.field == resource.subject_field:
            raise ValidationFailed.field(
                "corrected_value", "a key or subject field is corrected by reloading the record"
            )
        # The correction passes the same rules as a load (type, pattern, enumeration, check characters).
        field = next(f for f in list_fields(db, resource.id) if f.name == objection.field)
        clean, errors = RowValidator([field]).validate({field.name: value})
        if clean is None:
            raise ValidationFailed.field("corrected_value", errors[0].reason)
        value = clean[field.name]
        wrong_since = _wrong_since(db, record, objection.field)
        upserted = upsert_record(
            db,
            resource=resource,
            data={**record.data, objection.field: value},
            changed_by=actor.principal,
            existing=record,
        )
        if not upserted.is_changed:
            raise ValidationFailed.field("corrected_value", "this is the value already stored")
        objection.corrected_version = record.version
        consumers = consumers_who_read(
            db, resource=resource, subject_key=record.subject_key, field=objection.field, since=wrong_since
        )
    objection.status = outcome
    objection.answer = answer.strip()
    objection.answered_by = actor.principal
    objection.answered_at = clock.now()
    record_event(
        db,
        actor=actor.principal,
        action="datahub.objection.answered",
        subject_type="objection",
        subject_id=objection.number,
        data={
            "outcome": outcome,
            "corrected_version": objection.corrected_version,
            "consumers_to_tell": [c.client_id for c in consumers],
        },
    )
    if objection.raised_by.startswith("citizen:"):
        # The citizen who raised it is told the answer; a consumer reads it through the API.
        titles = {f.name: f.title for f in list_fields(db, resource.id)}
        messaging.notify(
            db,
            account_id=uuid.UUID(objection.raised_by.removeprefix("citizen:")),
            template=f"datahub.objection.{outcome}",
            params={
                "number": objection.number,
                "resource_title": resource.title,
                "resource_title_en": resource.title_en or resource.title,
                "field_title": titles.get(objection.field, objection.field),
                "answer": objection.answer,
            },
            dedupe_key=f"datahub.objection.answered:{objection.number}",
            link="/me/objections",
        )
    return Answered(objection, consumers)


def consumers_who_read(
    db: Session, *, resource: Resource, subject_key: str | None, field: str, since: datetime
) -> list[ConsumerToTell]:
    """Consumers whose gateway reads of ``field`` about the subject happened at or after ``since``."""
    subject_type = AUDITED_SUBJECTS.get(resource.subject_kind)
    if subject_type is None or subject_key is None:
        return []  # reads of non-personal data are not logged per subject
    latest: dict[str, tuple[datetime, dict[str, Any]]] = {}
    for event in list_events_for_subject(
        db, subject_type=subject_type, subject_id=subject_key, limit=_READ_HISTORY
    ):
        data = event.data
        if event.action != READ or data.get("resource") != resource.code or event.occurred_at < since:
            continue
        if field not in data.get("fields", []) or not data.get("records"):
            continue
        client_id = str(data.get("consumer"))
        if client_id not in latest or latest[client_id][0] < event.occurred_at:
            latest[client_id] = (event.occurred_at, data)
    orgs: dict[int, str] = {}
    told = []
    for client_id, (at, data) in sorted(latest.items()):
        org_id = data.get("consumer_org_id")
        if isinstance(org_id, int) and org_id not in orgs:
            try:
                orgs[org_id] = identity_queries.get_organisation(db, org_id).name
            except OrganisationNotFound:
                orgs[org_id] = ""
        told.append(
            ConsumerToTell(
                client_id=client_id,
                name=str(data.get("consumer_name") or client_id),
                org_name=orgs.get(org_id, "") if isinstance(org_id, int) else "",
                last_read_at=at,
            )
        )
    return told


def list_objections(
    db: Session, *, actor: Actor, status: str | None = None, page: int = 1, per_page: int = 20
) -> tuple[list[Objection], int]:
    """A steward's departments' objections (all for the platform operator), the soonest due first; a
    consumer's own. Raises NotAllowed."""
    query = select(Objection)
    if actor.kind == "client":
        query = query.where(Objection.raised_by == actor.principal)
    elif actor.kind in ("staff", "system"):
        ids = stewarded_resource_ids(db, actor)
        if ids is not None:
            query = query.where(Objection.resource_id.in_(ids))
    else:
        raise NotAllowed("citizens see their own objections under /me/objections")
    if status is not None:
        query = query.where(Objection.status == status)
    total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.scalars(
        query.order_by(Objection.due_at, Objection.number).offset((page - 1) * per_page).limit(per_page)
    )
    return list(rows), total


def list_own_objections(db: Session, *, actor: Actor) -> list[Objection]:
    """The objections the signed-in citizen raised, newest first. Raises NotYourRecord for anyone else."""
    identity_queries.get_own_person(db, actor)
    return list(
        db.scalars(
            select(Objection)
            .where(Objection.raised_by == actor.principal)
            .order_by(Objection.raised_at.desc())
        )
    )


def objection_read(db: Session, objection: Objection) -> ObjectionRead:
    resource = db.get(Resource, objection.resource_id)
    record = db.get(Record, objection.record_id)
    assert resource is not None and record is not None  # foreign keys guarantee them
    titles = {f.name: f.title for f in list_fields(db, resource.id)}
    return ObjectionRead(
        number=objection.number,
        resource_code=resource.code,
        resource_title=resource.title,
        record={name: record.data.get(name) for name in resource.key_fields},
        field=objection.field,
        field_title=titles.get(objection.field, objection.field),
        claim=objection.claim,
        proposed_value=objection.proposed_value,
        status=objection.status,
        raised_at=objection.raised_at,
        due_at=objection.due_at,
        is_overdue=objection.status == "open" and objection.due_at <= clock.now(),
        answer=objection.answer,
        answered_at=objection.answered_at,
        corrected_version=objection.corrected_version,
    )


def _wrong_since(db: Session, record: Record, field: str) -> datetime:
    """When the field took its current value: the oldest of the unbroken run of states holding it (the
    current state, then the record's history, newest first)."""
    current = record.data.get(field)
    since = record.updated_at
    history = db.scalars(
        select(RecordHistory)
        .where(RecordHistory.record_id == record.id)
        .order_by(RecordHistory.version.desc())
    )
    for state in history:
        if state.is_deleted or state.data.get(field) != current:
            break
        since = state.changed_at
    return since


def _find(db: Session, number: str) -> Objection | None:
    return db.scalar(select(Objection).where(Objection.number == normalise_number(number)))
