"""The staff's side of the workflow (审批): accepting an application, completing its review steps, asking
for a supplement (补正) that lists everything missing at once, approving or refusing with reasons; and the
task that flags overdue applications to the office above.

Only the reviewers of the office an application is with act on it (``permissions.can_review``); others
who may read it (the platform administrator over the office, the office above once it was escalated) are
refused with ReviewNotAllowed, and anyone else is told there is no such application. Every move goes
through ``applications.move`` (checked against the workflow table, a transition and an audit event in the
same transaction, and the applicant told of it through messaging). Actions add and flush; the caller
commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from zerotrip.audit.actions import record_event
from zerotrip.common import clock
from zerotrip.config import Settings
from zerotrip.identity.actor import Actor
from zerotrip.keys import KeyStore
from zerotrip.problems import FieldError, ValidationFailed
from zerotrip.services import applications, bundle_progress, results, routing, workflow
from zerotrip.services.applications import SERVICES, normalise_number
from zerotrip.services.errors import ApplicationNotFound, InvalidSupplementRequest, ReviewNotAllowed
from zerotrip.services.models import Application, Item
from zerotrip.services.models_workflow import SupplementItem, SupplementRequest
from zerotrip.services.permissions import can_read_applications_of, can_review
from zerotrip.services.workflow_schemas import SupplementItemSpec

ESCALATED = "services.application.escalated"


def held_application(db: Session, actor: Actor, number: str) -> Application:
    """The application, locked, when ``actor`` may act on it. Raises ApplicationNotFound (not theirs to
    see), ReviewNotAllowed (theirs to read, not to act on)."""
    application = db.scalar(
        select(Application).where(Application.number == normalise_number(number)).with_for_update()
    )
    if application is None or application.status == "draft":
        raise ApplicationNotFound()
    if can_review(actor, application.department_path):
        return application
    if can_read_applications_of(actor, application.department_path, application.escalated_to_path):
        raise ReviewNotAllowed()
    raise ApplicationNotFound()


def accept_application(db: Session, *, actor: Actor, number: str, note: str = "") -> Application:
    """Accept (受理) a submitted application: its materials are complete and in legal form, so it goes on
    to its review steps. Raises ApplicationNotFound, ReviewNotAllowed, ApplicationClosed, WrongStep."""
    application = held_application(db, actor, number)
    applications.move(db, application, "accept", actor=actor, reason=note.strip() or None)
    application.accepted_at = clock.now()
    return application


def complete_review(db: Session, *, actor: Actor, number: str, note: str) -> Application:
    """Record the review step the application is at as done, with the reviewer's opinion (审查意见), and
    move it to its next step. Raises ApplicationNotFound, ReviewNotAllowed, ApplicationClosed, WrongStep,
    ValidationFailed (no opinion)."""
    application = held_application(db, actor, number)
    if not note.strip():
        raise ValidationFailed.field("note", "write the review's opinion")
    applications.move(db, application, "complete_review", actor=actor, reason=note.strip())
    return application


def request_supplement(
    db: Session,
    *,
    actor: Actor,
    number: str,
    items: Sequence[SupplementItemSpec],
    note: str = "",
) -> SupplementRequest:
    """Ask the applicant for everything still missing, at once (一次性告知): each item either names a
    material to send again or says in words what else is needed. The clock stops until the applicant
    resubmits. Raises ApplicationNotFound, ReviewNotAllowed, ApplicationClosed, InvalidSupplementRequest."""
    application = held_application(db, actor, number)
    evidence = {ev.position: ev for ev in applications.evidence_of(db, application)}
    errors: list[FieldError] = []
    if not items:
        errors.append({"detail": "list what is missing", "pointer": "#/items"})
    named: set[int] = set()
    for index, spec in enumerate(items):
        if not spec.detail.strip():
            errors.append({"detail": "say what is missing", "pointer": f"#/items/{index}/detail"})
        if spec.material is None:
            continue
        if spec.material not in evidence:
            errors.append(
                {"detail": "the application has no such material", "pointer": f"#/items/{index}/material"}
            )
        elif spec.material in named:
            errors.append({"detail": "this material is listed twice", "pointer": f"#/items/{index}/material"})
        named.add(spec.material)
    if errors:
        raise InvalidSupplementRequest("the supplement request cannot be sent as it is", errors=errors)
    previous = application.status
    now = clock.now()
    sequence = (
        db.scalar(
            select(func.count())
            .select_from(SupplementRequest)
            .where(SupplementRequest.application_id == application.id)
        )
        or 0
    ) + 1
    request = SupplementRequest(
        application_id=application.id,
        sequence=sequence,
        note=note.strip(),
        requested_at=now,
        requested_by=actor.principal,
    )
    applications.move(
        db,
        application,
        "request_supplement",
        actor=actor,
        reason="；".join(spec.detail.strip() for spec in items),
        data={"items": len(items)},
    )
    application.resume_status = previous
    application.paused_at = now
    db.add(request)
    db.flush()  # the items refer to the request's id
    for position, spec in enumerate(items):
        db.add(
            SupplementItem(
                request_id=request.id,
                position=position,
                material_position=spec.material,
                detail=spec.detail.strip(),
            )
        )
    return request


def approve_application(
    db: Session,
    *,
    actor: Actor,
    number: str,
    keys: KeyStore,
    settings: Settings,
    decision_text: str = "",
) -> Application:
    """Approve an application whose review steps are done (it is at its decide step); the decision letter
    is issued into the applicant's wallet. Raises ApplicationNotFound, ReviewNotAllowed,
    ApplicationClosed, WrongStep."""
    application = held_application(db, actor, number)
    item = _item(db, application)
    now = clock.now()
    applications.move(db, application, "approve", actor=actor)
    application.decision_text = decision_text.strip() or f"经审查，准予办理“{item.name}”。"
    application.decided_at = now
    application.decided_by = actor.principal
    results.issue_decision_letter(
        db,
        application,
        item,
        decision=results.APPROVED_DECISION,
        decided_at=now,
        keys=keys,
        settings=settings,
    )
    # A part of a bundle (一件事): its result feeds the parts that need it, which start now.
    bundle_progress.push_result_onward(db, application=application, keys=keys, settings=settings)
    return application


def refuse_application(
    db: Session,
    *,
    actor: Actor,
    number: str,
    reasons: Sequence[str],
    keys: KeyStore,
    settings: Settings,
) -> Application:
    """Refuse an application, at acceptance (不予受理) or at any later step, with the reasons written out;
    the applicant gets the written decision in their wallet. Raises ApplicationNotFound, ReviewNotAllowed,
    ApplicationClosed, ValidationFailed (``#/reasons``: none given)."""
    application = held_application(db, actor, number)
    given = [r.strip() for r in reasons if r.strip()]
    if not given:
        raise ValidationFailed.field("reasons", "give at least one reason for the refusal")
    item = _item(db, application)
    now = clock.now()
    applications.move(db, application, "refuse", actor=actor, reason="；".join(given))
    application.refusal_reasons = given
    numbered = "；".join(f"{i}. {r}" for i, r in enumerate(given, start=1))
    application.decision_text = f"经审查，不予办理“{item.name}”。理由：{numbered}"
    application.decided_at = now
    application.decided_by = actor.principal
    results.issue_decision_letter(
        db,
        application,
        item,
        decision=results.REFUSED_DECISION,
        decided_at=now,
        keys=keys,
        settings=settings,
    )
    # A part of a bundle (一件事): the parts that needed it can never start and are withdrawn.
    bundle_progress.push_result_onward(db, application=application, keys=keys, settings=settings)
    return application


def flag_overdue_applications(db: Session, *, now: datetime | None = None) -> list[Application]:
    """Escalate every application still with its office past its deadline to the office above (督办):
    once each, audited. The application stays with its office; the office above may now read it."""
    at = now or clock.now()
    overdue = list(
        db.scalars(
            select(Application)
            .where(
                Application.status.in_(workflow.OPEN_STATUSES),
                Application.due_at <= at,
                Application.escalated_at.is_(None),
            )
            .order_by(Application.due_at)
            .with_for_update(skip_locked=True)
        )
    )
    above: dict[int, routing.Office] = {}
    for application in overdue:
        office = above.get(application.department_org_id)
        if office is None:
            office = above[application.department_org_id] = routing.office_above(
                db, application.department_org_id
            )
        application.escalated_at = at
        application.escalated_to_org_id = office.id
        application.escalated_to_path = office.path
        record_event(
            db,
            actor=SERVICES.principal,
            action=ESCALATED,
            subject_type="service_application",
            subject_id=application.number,
            data={
                "due_at": application.due_at.isoformat() if application.due_at else None,
                "status": application.status,
                "office_id": application.department_org_id,
                "escalated_to": office.code,
            },
        )
    return overdue


def _item(db: Session, application: Application) -> Item:
    return db.get_one(Item, application.item_id)
