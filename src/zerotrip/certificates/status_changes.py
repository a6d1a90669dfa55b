"""Suspending, reinstating and revoking certificates. Never commits.

Status changes are made by the issuing department's issuers, always with a reason, and show in the
published status list at once. Each change is audited in the same transaction with the holder as the
event's subject, and the holder is notified through messaging.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from zerotrip.audit.actions import record_event
from zerotrip.certificates import numbers
from zerotrip.certificates.errors import CertificateNotFound, CertificateRevoked, CertificateStatusConflict
from zerotrip.certificates.issuing import HOLDER_SUBJECTS, check_may_issue
from zerotrip.certificates.models import Certificate, CertificateType, StatusList
from zerotrip.common import clock
from zerotrip.identity import queries as identity_queries
from zerotrip.identity.actor import Actor
from zerotrip.messaging import actions as messaging
from zerotrip.problems import ValidationFailed

SUSPENDED = "certificates.certificate.suspended"
REINSTATED = "certificates.certificate.reinstated"
REVOKED = "certificates.certificate.revoked"


def suspend_certificate(db: Session, *, actor: Actor, number: str, reason: str) -> Certificate:
    """Suspend a valid certificate (it fails verification as suspended until reinstated).

    The issuing department's issuers do this, with a reason; the audit event names the holder as its
    subject, and the holder is notified through messaging. Raises CertificateNotFound,
    ScopeNotGranted, IssuingNotAllowed, CertificateRevoked, CertificateStatusConflict, ValidationFailed.
    """
    return _change_status(db, actor=actor, number=number, reason=reason, to="suspended", action=SUSPENDED)


def reinstate_certificate(db: Session, *, actor: Actor, number: str, reason: str) -> Certificate:
    """Make a suspended certificate valid again. Same people, rules, event and problems as suspending."""
    return _change_status(db, actor=actor, number=number, reason=reason, to="valid", action=REINSTATED)


def revoke_certificate(db: Session, *, actor: Actor, number: str, reason: str) -> Certificate:
    """Revoke a valid or suspended certificate for good (a correction is a new certificate). Same people,
    rules, event and problems as suspending; a revoked certificate cannot be revoked again."""
    return _change_status(db, actor=actor, number=number, reason=reason, to="revoked", action=REVOKED)


_ALLOWED_FROM = {"suspended": ("valid",), "valid": ("suspended",), "revoked": ("valid", "suspended")}


def _change_status(
    db: Session, *, actor: Actor, number: str, reason: str, to: str, action: str
) -> Certificate:
    if not reason.strip():
        raise ValidationFailed.field("reason", "a status change states its reason")
    certificate = db.scalar(
        select(Certificate)
        .where(Certificate.number == numbers.normalise_certificate_number(number))
        .with_for_update()
    )
    if certificate is None:
        raise CertificateNotFound()
    org = identity_queries.get_organisation(db, certificate.issuer_org_id)
    check_may_issue(actor, org)
    if certificate.status == "revoked":
        raise CertificateRevoked("revocation is final")
    if certificate.status not in _ALLOWED_FROM[to]:
        raise CertificateStatusConflict(f"the certificate is {certificate.status}")
    now = clock.now()
    previous = certificate.status
    certificate.status = to
    certificate.status_reason = reason.strip()
    certificate.status_changed_at = now
    _touch_status_list(db, certificate.status_list_id, now)
    event = record_event(
        db,
        actor=actor.principal,
        action=action,
        subject_type=HOLDER_SUBJECTS[certificate.holder_kind],
        subject_id=certificate.holder_key,
        data={
            "number": certificate.number,
            "issuer_org_id": certificate.issuer_org_id,
            "from": previous,
            "to": to,
            "reason": certificate.status_reason,
        },
    )
    ctype = db.get_one(CertificateType, certificate.type_id)
    is_person = certificate.holder_kind == "person"
    messaging.notify(
        db,
        resident_id=certificate.holder_key if is_person else None,
        uscc=None if is_person else certificate.holder_key,
        template=action,  # messaging's templates are named after the events they tell of
        params={
            "type_name": ctype.name,
            "type_name_en": ctype.name_en,
            "number": certificate.number,
            "reason": certificate.status_reason,
        },
        # The audit event's digest tells this change from an earlier one to the same status.
        dedupe_key=f"certificates.{to}:{certificate.number}:{event.digest.hex()[:32]}",
        link=f"/me/certificates/{certificate.number}",
    )
    return certificate


def _touch_status_list(db: Session, list_id: int, now: datetime) -> None:
    """Move the list's ``updated_at`` strictly forward, so a published list cached under the old value is
    never served again (even when the clock stands still, as in tests, or two changes share an instant)."""
    status_list = db.scalar(select(StatusList).where(StatusList.id == list_id).with_for_update())
    assert status_list is not None  # a foreign key guarantees it
    status_list.updated_at = max(now, status_list.updated_at + timedelta(microseconds=1))
