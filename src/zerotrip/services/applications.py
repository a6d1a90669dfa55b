"""Applications (办件): what applying, instant approval and the staff workflow share.

An application's public number, finding an application for the applicant who filed it, its evidence, and
``move``: every status change appends a transition and an audit event in the same transaction. The use
cases live beside it: ``applying.py`` (the applicant's draft, preview, consent, uploads, submission and
withdrawal), ``uploads.py`` (the files sent for materials), ``instant.py`` (the instant decision and the
rule sets it is made under). Actions add and flush; the caller commits.
"""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from zerotrip.audit.actions import record_event
from zerotrip.common import clock
from zerotrip.identity.actor import Actor, system
from zerotrip.problems import ValidationFailed
from zerotrip.services.errors import ApplicationClosed, ApplicationNotFound
from zerotrip.services.models import Application, Evidence, Transition
from zerotrip.services.permissions import is_filer

SERVICES = system("services")  # the platform deciding and issuing for the services context
NUMBER_PREFIX = "BJ"  # 办件
# Digits and capitals without 0/O, 1/I/L, which people confuse reading or typing; 31**10 ≈ 8e14 numbers.
NUMBER_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
NUMBER_LENGTH = 10
FETCHED_KINDS = ("datahub", "certificate")  # sources read with the applicant's consent
WITHDRAWABLE = ("draft", "submitted", "accepted", "in_review", "supplement")
TRANSITION_EVENTS = {
    "submitted": "services.application.submitted",
    "approved": "services.application.approved",
    "in_review": "services.application.referred",
    "withdrawn": "services.application.withdrawn",
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
    # Locked, so two submissions (or a submission and a consent) of one draft run one after the other.
    application = own_application(db, actor, number, lock=True)
    if application.status != "draft":
        raise ApplicationClosed(f"the application is {application.status}, no longer a draft")
    return application


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


def move(db: Session, application: Application, to: str, *, actor: Actor, reason: str | None = None) -> None:
    previous = application.status
    application.status = to
    application.updated_at = clock.now()
    log_transition(db, application, previous, to, actor=actor, reason=reason)
    record_event(
        db,
        actor=actor.principal,
        action=TRANSITION_EVENTS[to],
        subject_type="service_application",
        subject_id=application.number,
        data={"from": previous, "to": to, "reason": reason},
    )


def log_transition(
    db: Session,
    application: Application,
    previous: str | None,
    to: str,
    *,
    actor: Actor,
    reason: str | None = None,
) -> None:
    db.add(
        Transition(
            application_id=application.id,
            from_status=previous,
            to_status=to,
            at=clock.now(),
            by=actor.principal,
            reason=reason,
        )
    )
