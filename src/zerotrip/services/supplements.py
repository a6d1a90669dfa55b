"""The applicant's answer to a supplement request (补正): a file for each material asked for again, words
for anything else, then resubmission, which starts the clock again with the deadline moved by the working
days it stood still.

A material's new file replaces what stood for it (the evidence), and what it replaced is kept with the
answer, so nothing stored is lost. Actions add and flush; the caller commits.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from zerotrip.audit.actions import record_event
from zerotrip.common import clock
from zerotrip.config import Settings
from zerotrip.identity.actor import Actor
from zerotrip.problems import FieldError, ValidationFailed
from zerotrip.services import applications, uploads, workflow
from zerotrip.services.errors import ApplicationClosed, InvalidUpload, SupplementIncomplete
from zerotrip.services.models import Application
from zerotrip.services.models_workflow import SupplementItem, SupplementRequest

ANSWERED = "services.supplement.answered"


def open_request(db: Session, application: Application) -> SupplementRequest | None:
    """The supplement request waiting for the applicant, if any."""
    if application.status != "supplement":
        return None
    return db.scalar(
        select(SupplementRequest)
        .where(SupplementRequest.application_id == application.id, SupplementRequest.resubmitted_at.is_(None))
        .order_by(SupplementRequest.sequence.desc())
        .limit(1)
    )


def request_items(db: Session, request: SupplementRequest) -> list[SupplementItem]:
    return list(
        db.scalars(
            select(SupplementItem)
            .where(SupplementItem.request_id == request.id)
            .order_by(SupplementItem.position)
        )
    )


def answer_in_words(db: Session, *, actor: Actor, number: str, position: int, text: str) -> SupplementItem:
    """Answer an item of the open supplement request that asks for something other than a material.
    Raises ApplicationNotFound, ApplicationClosed (no open request), ValidationFailed."""
    application, item = _open_item(db, actor, number, position)
    if item.material_position is not None:
        raise ValidationFailed.field("text", "this item asks for a material: send the file")
    if not text.strip():
        raise ValidationFailed.field("text", "write your answer")
    item.answer_text = text.strip()
    item.answered_at = clock.now()
    _audit(db, actor, application, item, {"text": True})
    return item


def answer_with_file(
    db: Session,
    *,
    actor: Actor,
    number: str,
    position: int,
    filename: str,
    content: bytes,
    settings: Settings,
) -> SupplementItem:
    """Send the file for an item of the open supplement request that names a material; it stands for the
    material from now on, and what stood for it before is kept with the answer. Raises
    ApplicationNotFound, ApplicationClosed, InvalidUpload."""
    application, item = _open_item(db, actor, number, position)
    if item.material_position is None:
        raise InvalidUpload.field("file", "this item asks for an answer in words, not a file")
    ev = applications.evidence_at(db, application, item.material_position)
    stored = uploads.store_upload(
        application, position=ev.position, filename=filename, content=content, settings=settings
    )
    if item.replaced is None:  # the first answer keeps what the application had before the request
        item.replaced = {
            "state": ev.state,
            "consent": ev.consent,
            "upload_path": ev.upload_path,
            "upload_name": ev.upload_name,
            "upload_sha256": ev.upload_sha256,
            "fetched_at": ev.fetched_at.isoformat() if ev.fetched_at else None,
            "source_org_name": ev.source_org_name,
            "values": ev.values,
        }
    now = clock.now()
    item.upload_path, item.upload_name, item.upload_type = stored.path, stored.name, stored.content_type
    item.upload_size, item.upload_sha256, item.answered_at = stored.size, stored.sha256, now
    ev.state = "uploaded"
    ev.upload_path, ev.upload_name, ev.upload_type = stored.path, stored.name, stored.content_type
    ev.upload_size, ev.upload_sha256, ev.uploaded_at = stored.size, stored.sha256, now
    application.updated_at = now
    _audit(
        db, actor, application, item, {"material": ev.position, "sha256": stored.sha256, "size": stored.size}
    )
    return item


def resubmit_application(db: Session, *, actor: Actor, number: str, settings: Settings) -> Application:
    """Send the application back to its office once every item of the supplement request is answered.
    The clock runs again; the deadline moves by the working days it stood still. Raises
    ApplicationNotFound, ApplicationClosed, SupplementIncomplete (``#/items/N`` for each unanswered)."""
    application = applications.own_application(db, actor, number, lock=True)
    request = open_request(db, application)
    if request is None:
        raise ApplicationClosed(f"a {application.status} application has no supplement request to answer")
    missing: list[FieldError] = [
        {"detail": f"answer: {item.detail}", "pointer": f"#/items/{item.position}"}
        for item in request_items(db, request)
        if item.answered_at is None
    ]
    if missing:
        raise SupplementIncomplete("some items are not answered yet", errors=missing)
    now = clock.now()
    calendar = workflow.calendar_of(settings)
    days = workflow.paused_days(calendar, application.paused_at or now, now)
    if application.due_at is not None:
        application.due_at = calendar.extend(application.due_at, days)
    request.resubmitted_at = now
    request.paused_working_days = days
    application.paused_working_days += days
    application.paused_at = None
    applications.move(
        db,
        application,
        "resubmit",
        actor=actor,
        reason=f"paused {days} working days",
        data={
            "paused_working_days": days,
            "due_at": application.due_at.isoformat() if application.due_at else None,
        },
    )
    application.resume_status = None
    return application


def _open_item(db: Session, actor: Actor, number: str, position: int) -> tuple[Application, SupplementItem]:
    application = applications.own_application(db, actor, number, lock=True)
    request = open_request(db, application)
    if request is None:
        raise ApplicationClosed(f"a {application.status} application has no supplement request to answer")
    item = next((i for i in request_items(db, request) if i.position == position), None)
    if item is None:
        raise ValidationFailed.field("position", "the supplement request has no item at this position")
    return application, item


def _audit(
    db: Session, actor: Actor, application: Application, item: SupplementItem, data: dict[str, object]
) -> None:
    record_event(
        db,
        actor=actor.principal,
        action=ANSWERED,
        subject_type="service_application",
        subject_id=application.number,
        data={"item": item.position, **data},
    )
