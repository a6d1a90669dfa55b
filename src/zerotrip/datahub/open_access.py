"""Applications to use restricted open data (受限开放): an API client states its purpose, the owning
department's steward approves or refuses, and approval lets that client read the resource through the open
data API. Open resources need no application; closed ones cannot be applied for.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from zerotrip.audit.actions import record_event
from zerotrip.common import clock
from zerotrip.datahub.errors import OpenApplicationClosed, OpenApplicationNotFound, ResourceNotFound
from zerotrip.datahub.models import OpenAccessApplication, Resource
from zerotrip.datahub.permissions import can_steward
from zerotrip.datahub.queries import find_resource
from zerotrip.identity import queries as identity_queries
from zerotrip.identity.actor import Actor
from zerotrip.problems import Conflict, NotAllowed, ValidationFailed

APPLY_SCOPE = "datahub.open.apply"


def has_open_access(db: Session, *, actor: Actor, resource: Resource) -> bool:
    """An API client with an approved application may read a restricted resource."""
    if actor.kind != "client" or actor.client_id is None:
        return False
    approved = db.scalar(
        select(OpenAccessApplication.id).where(
            OpenAccessApplication.resource_id == resource.id,
            OpenAccessApplication.client_id == actor.client_id,
            OpenAccessApplication.status == "approved",
        )
    )
    return approved is not None


def apply_for_open_access(db: Session, *, actor: Actor, code: str, purpose: str) -> OpenAccessApplication:
    """Ask to use a restricted resource for ``purpose``. Only an API client holding the
    ``datahub.open.apply`` scope may apply; a client's pending or approved application is returned as it
    is rather than duplicated. Raises NotAllowed, ResourceNotFound (absent or closed), Conflict (the
    resource is open to everyone), ValidationFailed (no purpose)."""
    if actor.kind != "client" or actor.client_id is None or APPLY_SCOPE not in actor.scopes:
        raise NotAllowed(
            f"applying for restricted open data takes an API client with the {APPLY_SCOPE} scope"
        )
    resource = find_resource(db, code)
    if resource is None or resource.open_type not in ("open", "restricted"):
        raise ResourceNotFound(f"no open data resource has the code {code!r}")
    if resource.open_type == "open":
        raise Conflict("this resource is open to everyone; no application is needed")
    purpose = purpose.strip()
    if not purpose:
        raise ValidationFailed.field("purpose", "say what the data will be used for")
    existing = db.scalar(
        select(OpenAccessApplication).where(
            OpenAccessApplication.resource_id == resource.id,
            OpenAccessApplication.client_id == actor.client_id,
            OpenAccessApplication.status.in_(("pending", "approved")),
        )
    )
    if existing is not None:
        return existing
    application = OpenAccessApplication(
        resource_id=resource.id,
        client_id=actor.client_id,
        applicant=actor.name or actor.client_id,
        purpose=purpose,
        status="pending",
        applied_at=clock.now(),
    )
    db.add(application)
    db.flush()  # the id names the application in the audit event
    record_event(
        db,
        actor=actor.principal,
        action="datahub.open_application.submitted",
        subject_type="open_application",
        subject_id=str(application.id),
        data={"resource": resource.code, "purpose": purpose},
    )
    return application


def decide_open_application(
    db: Session, *, actor: Actor, application_id: uuid.UUID, approve: bool, reason: str | None
) -> OpenAccessApplication:
    """Approve or refuse a pending application; a refusal needs a written reason. The steward of the
    department owning the resource decides. Raises OpenApplicationNotFound, NotSteward (as NotAllowed),
    OpenApplicationClosed, ValidationFailed."""
    application = db.get(OpenAccessApplication, application_id)
    if application is None:
        raise OpenApplicationNotFound()
    resource = db.get(Resource, application.resource_id)
    assert resource is not None  # a foreign key guarantees it
    owner = identity_queries.get_organisation(db, resource.owner_org_id)
    if not can_steward(actor, owner.path):
        raise NotAllowed("deciding needs the data steward role over the department owning the resource")
    if application.status != "pending":
        raise OpenApplicationClosed()
    reason = (reason or "").strip() or None
    if not approve and reason is None:
        raise ValidationFailed.field("reason", "a refusal needs a reason the applicant can read")
    application.status = "approved" if approve else "refused"
    application.decided_by = actor.principal
    application.decided_at = clock.now()
    application.reason = reason
    record_event(
        db,
        actor=actor.principal,
        action=f"datahub.open_application.{application.status}",
        subject_type="open_application",
        subject_id=str(application.id),
        data={"resource": resource.code, "client_id": application.client_id, "reason": reason},
    )
    return application


def list_open_applications(
    db: Session, *, actor: Actor, status: str | None = None
) -> list[tuple[OpenAccessApplication, str]]:
    """An API client sees its own applications; a steward sees those for resources of the departments
    they steward. Each comes with its resource's code, newest first."""
    query = select(OpenAccessApplication, Resource).join(
        Resource, Resource.id == OpenAccessApplication.resource_id
    )
    if status is not None:
        query = query.where(OpenAccessApplication.status == status)
    query = query.order_by(OpenAccessApplication.applied_at.desc())
    if actor.kind == "client":
        rows = db.execute(query.where(OpenAccessApplication.client_id == actor.client_id)).all()
        return [(a, r.code) for a, r in rows]
    if actor.kind not in ("staff", "system"):
        raise NotAllowed("open data applications are for API clients and the stewards who decide them")
    paths: dict[int, str] = {}
    visible: list[tuple[OpenAccessApplication, str]] = []
    for application, resource in db.execute(query).all():
        if resource.owner_org_id not in paths:
            paths[resource.owner_org_id] = identity_queries.get_organisation(db, resource.owner_org_id).path
        if can_steward(actor, paths[resource.owner_org_id]):
            visible.append((application, resource.code))
    return visible
