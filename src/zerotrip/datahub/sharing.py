"""Share requests (共享申请) and grants (授权).

A consumer (always an API client: a department system, or one of zerotrip's own contexts) asks for named
fields of a resource, stating a purpose and a legal basis. Fields whose effective share type is
unconditional are granted at once; conditional ones (and clear values of grade 2 and 3 fields) wait for the
owning department's steward, who approves, or refuses with a written reason, within a number of working
days; requests left undecided past that are escalated to the platform operator. Fields that may not be
shared ('none', which every grade 4 field is) are refused outright. A grant names fields, one purpose, and
an expiry, and can be revoked; only live grants let the gateway read.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from zerotrip.audit.actions import record_event
from zerotrip.common import clock
from zerotrip.common.workdays import WorkCalendar
from zerotrip.config import DatahubSettings
from zerotrip.datahub import grades
from zerotrip.datahub.errors import (
    GrantNotFound,
    NotSteward,
    ShareNotAllowed,
    ShareRequestClosed,
    ShareRequestNotFound,
)
from zerotrip.datahub.models import Field, Grant, Resource, ShareRequest
from zerotrip.datahub.numbers import unused_number
from zerotrip.datahub.permissions import can_steward
from zerotrip.datahub.queries import get_resource, list_fields
from zerotrip.datahub.sharing_queries import find_share_request, owner_path
from zerotrip.identity.actor import Actor
from zerotrip.problems import NotAllowed, ValidationFailed

PLATFORM = "system:datahub"  # the principal of decisions the platform makes by rule


def calendar_of(settings: DatahubSettings) -> WorkCalendar:
    return WorkCalendar.of(holidays=settings.holidays, working_weekend_days=settings.working_weekend_days)


def request_share(
    db: Session,
    *,
    actor: Actor,
    resource_code: str,
    fields: Sequence[str],
    purpose: str,
    legal_basis: str,
    is_clear_requested: bool = False,
    settings: DatahubSettings,
) -> ShareRequest:
    """File a share request; unconditional fields are granted at once, the rest wait for the steward.

    Raises NotAllowed (the caller is not an API client), ResourceNotFound, ValidationFailed (unknown or
    no fields, empty purpose), ShareNotAllowed (a field may not be shared at all; nothing is stored).
    """
    if actor.kind != "client" or actor.client_id is None or actor.client_org_id is None:
        raise NotAllowed("share requests are made by department systems (API clients)")
    if not purpose.strip():
        raise ValidationFailed.field("purpose", "state what the data will be used for")
    if not legal_basis.strip():
        raise ValidationFailed.field("legal_basis", "state the legal basis")
    resource = get_resource(db, resource_code)
    wanted = _shareable_fields(db, resource, fields)
    now = clock.now()
    # Clear values of sensitive fields always need a person's decision, however the field is shared.
    at_once = [
        f.name
        for f in wanted
        if grades.effective_share_type(resource.share_type, f.grade) == "unconditional"
        and not (is_clear_requested and f.grade >= 2)
    ]
    is_pending = len(at_once) < len(wanted)
    request = ShareRequest(
        id=uuid.uuid4(),
        number=unused_number("SR", lambda n: _number_taken(db, n)),
        resource_id=resource.id,
        consumer_client_id=actor.client_id,
        consumer_org_id=actor.client_org_id,
        fields=[f.name for f in wanted],
        purpose=purpose.strip(),
        legal_basis=legal_basis.strip(),
        is_clear_requested=is_clear_requested,
        status="pending" if is_pending else "approved",
        requested_by=actor.principal,
        requested_at=now,
        due_at=calendar_of(settings).deadline(now, settings.share_decision_working_days)
        if is_pending
        else None,
        decided_by=None if is_pending else PLATFORM,
        decided_at=None if is_pending else now,
    )
    db.add(request)
    db.flush()  # a grant refers to the request row, and no ORM relationship orders the two inserts
    record_event(
        db,
        actor=actor.principal,
        action="datahub.share_request.submitted",
        subject_type="share_request",
        subject_id=request.number,
        data={
            "resource": resource.code,
            "fields": request.fields,
            "purpose": request.purpose,
            "granted_at_once": at_once,
        },
    )
    if at_once:
        _grant(
            db,
            request=request,
            resource=resource,
            fields=at_once,
            is_clear=False,
            by=PLATFORM,
            now=now,
            settings=settings,
        )
    return request


def approve_share_request(db: Session, *, actor: Actor, number: str, settings: DatahubSettings) -> Grant:
    """Grant the fields still waiting, as asked (clear values if requested), until the grant expires.

    The owning department's steward decides. Raises ShareRequestNotFound, NotSteward, ShareRequestClosed,
    ShareNotAllowed (the catalogue now forbids sharing a field).
    """
    request, resource = _request_for_steward(db, actor=actor, number=number)
    wanted = _shareable_fields(db, resource, request.fields)
    already = {
        name
        for grant in db.scalars(select(Grant).where(Grant.request_id == request.id))
        for name in grant.fields
    }
    remaining = [f.name for f in wanted if f.name not in already or request.is_clear_requested]
    now = clock.now()
    request.status = "approved"
    request.decided_by = actor.principal
    request.decided_at = now
    record_event(
        db,
        actor=actor.principal,
        action="datahub.share_request.approved",
        subject_type="share_request",
        subject_id=request.number,
        data={"resource": resource.code, "fields": remaining},
    )
    return _grant(
        db,
        request=request,
        resource=resource,
        fields=remaining,
        is_clear=request.is_clear_requested,
        by=actor.principal,
        now=now,
        settings=settings,
    )


def refuse_share_request(db: Session, *, actor: Actor, number: str, reason: str) -> ShareRequest:
    """Refuse the waiting fields with a written reason (grants already made at once stay).

    Raises ShareRequestNotFound, NotSteward, ShareRequestClosed, ValidationFailed (no reason).
    """
    if not reason.strip():
        raise ValidationFailed.field("reason", "a refusal states its reason")
    request, resource = _request_for_steward(db, actor=actor, number=number)
    request.status = "refused"
    request.decided_by = actor.principal
    request.decided_at = clock.now()
    request.reason = reason.strip()
    record_event(
        db,
        actor=actor.principal,
        action="datahub.share_request.refused",
        subject_type="share_request",
        subject_id=request.number,
        data={"resource": resource.code, "reason": request.reason},
    )
    return request


def withdraw_share_request(db: Session, *, actor: Actor, number: str) -> ShareRequest:
    """The consumer that asked takes back a request still waiting. Raises ShareRequestNotFound,
    ShareRequestClosed."""
    request = find_share_request(db, number)
    if request is None or actor.kind != "client" or request.consumer_client_id != actor.client_id:
        raise ShareRequestNotFound()
    if request.status != "pending":
        raise ShareRequestClosed()
    request.status = "withdrawn"
    request.decided_by = actor.principal
    request.decided_at = clock.now()
    record_event(
        db,
        actor=actor.principal,
        action="datahub.share_request.withdrawn",
        subject_type="share_request",
        subject_id=request.number,
    )
    return request


def revoke_grant(db: Session, *, actor: Actor, grant_id: uuid.UUID, reason: str) -> Grant:
    """Stop a grant at once. The owning steward, the platform operator, or the consumer itself may.
    Revoking a revoked grant changes nothing. Raises GrantNotFound, NotAllowed, ValidationFailed."""
    if not reason.strip():
        raise ValidationFailed.field("reason", "say why the grant is revoked")
    grant = db.get(Grant, grant_id)
    if grant is None:
        raise GrantNotFound()
    resource = db.get(Resource, grant.resource_id)
    assert resource is not None  # a foreign key guarantees it
    is_consumer = actor.kind == "client" and actor.client_id == grant.consumer_client_id
    if not is_consumer and not can_steward(actor, owner_path(db, resource)):
        if actor.kind == "client":
            raise GrantNotFound()  # another consumer learns nothing about this grant
        raise NotAllowed("revoking a grant takes the steward of the owning department")
    if grant.revoked_at is not None:
        return grant
    grant.revoked_at = clock.now()
    grant.revoked_by = actor.principal
    grant.revoke_reason = reason.strip()
    record_event(
        db,
        actor=actor.principal,
        action="datahub.grant.revoked",
        subject_type="grant",
        subject_id=str(grant.id),
        data={"resource": resource.code, "consumer": grant.consumer_client_id, "reason": grant.revoke_reason},
    )
    return grant


def flag_overdue_requests(db: Session, *, now: datetime | None = None) -> list[ShareRequest]:
    """Escalate every request still waiting past its deadline to the platform operator (once each)."""
    at = now or clock.now()
    overdue = list(
        db.scalars(
            select(ShareRequest)
            .where(
                ShareRequest.status == "pending",
                ShareRequest.due_at <= at,
                ShareRequest.is_escalated.is_(False),
            )
            .order_by(ShareRequest.due_at)
        )
    )
    for request in overdue:
        request.is_escalated = True
        record_event(
            db,
            actor=PLATFORM,
            action="datahub.share_request.escalated",
            subject_type="share_request",
            subject_id=request.number,
            data={"due_at": request.due_at.isoformat() if request.due_at else None},
        )
    return overdue


# -- helpers ----------------------------------------------------------------------------------------


def _grant(
    db: Session,
    *,
    request: ShareRequest,
    resource: Resource,
    fields: list[str],
    is_clear: bool,
    by: str,
    now: datetime,
    settings: DatahubSettings,
) -> Grant:
    grant = Grant(
        id=uuid.uuid4(),
        request_id=request.id,
        resource_id=resource.id,
        consumer_client_id=request.consumer_client_id,
        fields=fields,
        purpose=request.purpose,
        is_clear=is_clear,
        granted_by=by,
        granted_at=now,
        expires_at=now + timedelta(days=settings.grant_days),
    )
    db.add(grant)
    record_event(
        db,
        actor=by,
        action="datahub.grant.granted",
        subject_type="grant",
        subject_id=str(grant.id),
        data={
            "request": request.number,
            "resource": resource.code,
            "consumer": grant.consumer_client_id,
            "fields": fields,
            "purpose": grant.purpose,
            "is_clear": is_clear,
            "expires_at": grant.expires_at.isoformat(),
        },
    )
    return grant


def _shareable_fields(db: Session, resource: Resource, names: Sequence[str]) -> list[Field]:
    by_name = {f.name: f for f in list_fields(db, resource.id)}
    wanted = list(dict.fromkeys(names))
    if not wanted:
        raise ValidationFailed.field("fields", "name at least one field")
    unknown = [n for n in wanted if n not in by_name]
    if unknown:
        raise ValidationFailed.field("fields", f"not fields of {resource.code}: {', '.join(unknown)}")
    refused = [
        n for n in wanted if grades.effective_share_type(resource.share_type, by_name[n].grade) == "none"
    ]
    if refused:
        raise ShareNotAllowed(f"these fields may not be shared: {', '.join(refused)}", fields=refused)
    return [by_name[n] for n in wanted]


def _request_for_steward(db: Session, *, actor: Actor, number: str) -> tuple[ShareRequest, Resource]:
    request = find_share_request(db, number)
    if request is None:
        raise ShareRequestNotFound()
    resource = db.get(Resource, request.resource_id)
    assert resource is not None  # a foreign key guarantees it
    if not can_steward(actor, owner_path(db, resource)):
        raise NotSteward("deciding share requests takes the steward of the owning department")
    if request.status != "pending":
        raise ShareRequestClosed(f"this request is {request.status}")
    return request, resource


def _number_taken(db: Session, number: str) -> bool:
    return db.scalar(select(ShareRequest.id).where(ShareRequest.number == number)) is not None
