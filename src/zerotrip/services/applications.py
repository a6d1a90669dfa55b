"""Applications (办件): what applying, instant approval and the staff workflow share.

An application's public number, finding an application for the applicant who filed it, its evidence, and
``move``: every move of the workflow (``workflow.py``) is checked against its table and appends a
transition and an audit event in the same transaction. The use cases live beside it: ``applying.py`` (the
applicant's draft, preview, consent, submission and withdrawal), ``uploads.py`` (the files sent for
materials), ``instant.py`` (the instant decision and the rule sets it is made under), ``reviewing.py``
(the staff's moves), ``supplements.py`` (the applicant's answer to a supplement request). Actions add and
flush; the caller commits.
"""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from zerotrip.audit.actions import record_one
from zerotrip.common import clock
from zerotrip.identity.actor import Actor, system
from zerotrip.messaging import actions as messaging
from zerotrip.problems import ValidationFailed
from zerotrip.services import workflow
from zerotrip.services.bundle_models import BundleApplication, BundleMember
from zerotrip.services.errors import ApplicationClosed, ApplicationNotFound, WrongStep
from zerotrip.services.models import Application, Evidence, Item, Transition
from zerotrip.services.permissions import is_filer
from zerotrip.services.workflow import Move

SERVICES = system("services")  # the platform deciding and issuing for the services context
NUMBER_PREFIX = "BJ"  # 办件
# Digits and capitals without 0/O, 1/I/L, which people confuse reading or typing; 31**10 ≈ 8e14 numbers.
NUMBER_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
NUMBER_LENGTH = 10
FETCHED_KINDS = ("datahub", "certificate")  # sources read with the applicant's consent
WITHDRAWABLE = workflow.RULES["withdraw"].sources
MOVE_EVENTS: dict[Move, str] = {
    "submit": "services.application.submitted",
    "refer": "services.application.referred",
    "accept": "services.application.accepted",
    "complete_review": "services.application.reviewed",
    "approve": "services.application.approved",
    "approve_instantly": "services.application.approved",
    "refuse": "services.application.refused",
    "request_supplement": "services.application.supplement_requested",
    "resubmit": "services.application.resubmitted",
    "withdraw": "services.application.withdrawn",
}
# The moves the person who filed the application is told of, with messaging's template for each; not
# their own (submitting, answering a supplement request, withdrawing) nor a review step done.
TOLD: dict[Move, str] = {
    "refer": "services.application.referred",
    "accept": "services.application.accepted",
    "request_supplement": "services.application.supplement",
    "approve": "services.application.approved",
    "approve_instantly": "services.application.approved",
    "refuse": "services.application.refused",
}


def normalise_number(text: str) -> str:
    """Numbers are shown upper-case; accept what a person typed in lower case or with spaces."""
    return "".join(text.split()).upper()


def new_number(db: Session) -> str:
    for _ in range(5):
        number = NUMBER_PREFIX + "".join(secrets.choice(NUMBER_ALPHABET) for _ in range(NUMBER_LENGTH))
        if db.scalar(select(Application.id).where(Application.number == number)) is None:
            return number
    raise RuntimeError("could not find a free application number; the random source looks broken")


def own_application(db: Session, actor: Actor, number: str, *, lock: bool = False) -> Application:
    query = select(Application).where(Application.number == normalise_number(number))
    application = db.scalar(query.with_for_update() if lock else query)
    if application is None or not is_filer(actor, application.filed_by_person_id):
        raise ApplicationNotFound()
    return application


def own_draft(db: Session, actor: Actor, number: str) -> Application:
    """The applicant's draft, locked, so two submissions (or a submission and a consent) of one draft run
    one after the other. A draft that is a part of a bundle is changed only through its bundle (which
    reads shared data once for all parts and submits the part when its inputs exist). Raises
    ApplicationNotFound, ApplicationClosed."""
    row = db.execute(_DRAFT_AND_BUNDLE.where(Application.number == normalise_number(number))).first()
    if row is None or not is_filer(actor, row[0].filed_by_person_id):
        raise ApplicationNotFound()
    application: Application = row[0]
    bundle: str | None = row[1]
    if application.status != "draft":
        raise ApplicationClosed(f"the application is {application.status}, no longer a draft")
    if bundle is not None:
        raise ApplicationClosed(f"the application is a part of bundle {bundle}: change it there")
    return application


# An application, locked, with the number of the bundle it is a part of (if any), in one statement.
_DRAFT_AND_BUNDLE = select(
    Application,
    select(BundleApplication.number)
    .join(BundleMember, BundleMember.bundle_application_id == BundleApplication.id)
    .where(BundleMember.application_id == Application.id)
    .correlate(Application)
    .scalar_subquery(),
).with_for_update(of=Application)


def bundle_number_of(db: Session, application: Application) -> str | None:
    """The number of the bundle application (一件事) ``application`` is a part of, if any."""
    return db.scalar(
        select(BundleApplication.number)
        .join(BundleMember, BundleMember.bundle_application_id == BundleApplication.id)
        .where(BundleMember.application_id == application.id)
    )


def evidence_of(db: Session, application: Application) -> list[Evidence]:
    return list(
        db.scalars(
            select(Evidence).where(Evidence.application_id == application.id).order_by(Evidence.position)
        )
    )


def evidence_at(db: Session, application: Application, position: int) -> Evidence:
    ev = db.scalar(
        select(Evidence).where(Evidence.application_id == application.id, Evidence.position == position)
    )
    if ev is None:
        raise ValidationFailed.field("position", "the application has no material at this position")
    return ev


def needs_upload(ev: Evidence) -> bool:
    """Whether this material is to be uploaded (or already was)."""
    return (
        ev.source_kind == "upload"
        or ev.consent == "declined"
        or ev.state in ("unavailable", "uploaded")
        or (ev.source_kind == "prior_result" and ev.state == "pending")
    )


def current_step(application: Application) -> dict[str, str] | None:
    """The step the application is at ({"kind", "name", "presence"}); None for a draft."""
    if application.step_index is None or not application.steps:
        return None
    return application.steps[application.step_index]


def move(
    db: Session,
    application: Application,
    how: Move,
    *,
    actor: Actor,
    reason: str | None = None,
    data: dict[str, object] | None = None,
) -> None:
    """Make one move of the workflow: checked against its table (ApplicationClosed when the application
    is decided, withdrawn, a draft or waiting for the applicant; WrongStep when it is with its office at
    another step), then the status and step change, a transition is
    appended, an audit event (``MOVE_EVENTS``, with ``data`` added) recorded and, for a move the
    applicant should know of (``TOLD``), a notification written to the person who filed it (messaging
    sends it after the commit)."""
    step = current_step(application)
    problem = workflow.why_not(how, application.status, step["kind"] if step else None)
    if problem is not None:
        # Decided, withdrawn, not yet sent or waiting for the applicant: closed to this move. Otherwise
        # the application is with its office at another step (too early, or already past it).
        waiting = application.status in (*workflow.FINAL_STATUSES, "draft", "supplement")
        raise (ApplicationClosed if waiting else WrongStep)(problem)
    previous = application.status
    to = workflow.target_of(how, resume_status=application.resume_status)
    if application.step_index is not None:
        application.step_index = workflow.step_after(how, application.steps, application.step_index)
    application.status = to
    application.updated_at = clock.now()
    step_name = step["name"] if step else None
    log_transition(db, application, previous, to, actor=actor, reason=reason, step=step_name)
    digest = record_one(
        db,
        actor=actor.principal,
        action=MOVE_EVENTS[how],
        subject_type="service_application",
        subject_id=application.number,
        data={"from": previous, "to": to, "reason": reason, "step": step_name, **(data or {})},
    )
    template = TOLD.get(how)
    if template is not None:
        item = db.get_one(Item, application.item_id)
        messaging.notify(
            db,
            person_id=application.filed_by_person_id,
            template=template,
            params={
                "number": application.number,
                "item_name": item.name,
                "item_name_en": item.name_en or item.name,
                "reason": reason or "",
            },
            # The audit event's digest tells this move from an earlier one of the same kind (a second
            # supplement request).
            dedupe_key=f"services.application:{application.number}:{how}:{digest.hex()[:32]}",
            link=f"/me/applications/{application.number}",
        )


def log_transition(
    db: Session,
    application: Application,
    previous: str | None,
    to: str,
    *,
    actor: Actor,
    reason: str | None = None,
    step: str | None = None,
) -> None:
    db.add(
        Transition(
            application_id=application.id,
            from_status=previous,
            to_status=to,
            at=clock.now(),
            by=actor.principal,
            reason=reason,
            step=step,
        )
    )
