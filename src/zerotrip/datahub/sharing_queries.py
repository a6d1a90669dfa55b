"""Reads of share requests and grants: who may see which, what is live, what is overdue."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from zerotrip.common import clock
from zerotrip.datahub.errors import ShareRequestNotFound
from zerotrip.datahub.models import Grant, Resource, ShareRequest
from zerotrip.datahub.numbers import normalise_number
from zerotrip.datahub.permissions import can_oversee, can_steward
from zerotrip.identity import queries as identity_queries
from zerotrip.identity.actor import Actor
from zerotrip.problems import NotAllowed


def is_overdue(request: ShareRequest, *, now: datetime) -> bool:
    return request.status == "pending" and request.due_at is not None and request.due_at <= now


def is_live(grant: Grant, *, now: datetime) -> bool:
    return grant.revoked_at is None and grant.expires_at > now


def get_share_request(db: Session, *, actor: Actor, number: str) -> ShareRequest:
    """A request as its consumer, the owning steward or the platform operator sees it; anyone else is told
    it does not exist. Raises ShareRequestNotFound."""
    request = find_share_request(db, number)
    if request is None:
        raise ShareRequestNotFound()
    if actor.kind == "client" and actor.client_id == request.consumer_client_id:
        return request
    resource = db.get(Resource, request.resource_id)
    if (
        resource is not None
        and actor.kind in ("staff", "system")
        and (can_oversee(actor) or can_steward(actor, owner_path(db, resource)))
    ):
        return request
    raise ShareRequestNotFound()


def list_share_requests(
    db: Session,
    *,
    actor: Actor,
    status: str | None = None,
    is_overdue_only: bool = False,
    page: int = 1,
    per_page: int = 20,
) -> tuple[list[ShareRequest], int]:
    """A consumer sees its own requests, a steward those for their departments' resources, the platform
    operator all of them (with ``is_overdue_only``, the ones past their deadline). Raises NotAllowed."""
    query = select(ShareRequest)
    if actor.kind == "client":
        query = query.where(ShareRequest.consumer_client_id == actor.client_id)
    elif actor.kind in ("staff", "system"):
        ids = stewarded_resource_ids(db, actor)
        if ids is not None:
            query = query.where(ShareRequest.resource_id.in_(ids))
    else:
        raise NotAllowed("share requests are for department systems, stewards and the platform operator")
    if status is not None:
        query = query.where(ShareRequest.status == status)
    if is_overdue_only:
        query = query.where(ShareRequest.status == "pending", ShareRequest.due_at <= clock.now())
    total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.scalars(
        query.order_by(ShareRequest.requested_at.desc(), ShareRequest.number)
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    return list(rows), total


def list_grants(db: Session, *, actor: Actor, is_live_only: bool = False) -> list[Grant]:
    """A consumer's own grants; a steward's departments' grants; all of them for the platform operator."""
    query = select(Grant)
    if actor.kind == "client":
        query = query.where(Grant.consumer_client_id == actor.client_id)
    elif actor.kind in ("staff", "system"):
        ids = stewarded_resource_ids(db, actor)
        if ids is not None:
            query = query.where(Grant.resource_id.in_(ids))
    else:
        raise NotAllowed("grants are for department systems, stewards and the platform operator")
    if is_live_only:
        query = query.where(Grant.revoked_at.is_(None), Grant.expires_at > clock.now())
    return list(db.scalars(query.order_by(Grant.granted_at.desc(), Grant.id)))


def list_request_grants(db: Session, request_ids: Sequence[uuid.UUID]) -> list[Grant]:
    if not request_ids:
        return []
    return list(db.scalars(select(Grant).where(Grant.request_id.in_(request_ids)).order_by(Grant.granted_at)))


def live_grants(db: Session, *, client_id: str, resource_id: int, purpose: str | None = None) -> list[Grant]:
    """Grants that let ``client_id`` read the resource now (for ``purpose``, when given)."""
    query = select(Grant).where(
        Grant.consumer_client_id == client_id,
        Grant.resource_id == resource_id,
        Grant.revoked_at.is_(None),
        Grant.expires_at > clock.now(),
    )
    if purpose is not None:
        query = query.where(Grant.purpose == purpose)
    return list(db.scalars(query))


def stewarded_resource_ids(db: Session, actor: Actor) -> list[int] | None:
    """The resources ``actor`` stewards; None means every one (the platform operator). The catalogue is
    small (hundreds of entries), so this walks it rather than joining across the identity boundary."""
    if can_oversee(actor):
        return None
    paths: dict[int, str] = {}
    ids: list[int] = []
    for resource_id, owner_org_id in db.execute(select(Resource.id, Resource.owner_org_id)).all():
        if owner_org_id not in paths:
            paths[owner_org_id] = identity_queries.get_organisation(db, owner_org_id).path
        if can_steward(actor, paths[owner_org_id]):
            ids.append(resource_id)
    return ids


def find_share_request(db: Session, number: str) -> ShareRequest | None:
    return db.scalar(select(ShareRequest).where(ShareRequest.number == normalise_number(number)))


def owner_path(db: Session, resource: Resource) -> str:
    return identity_queries.get_organisation(db, resource.owner_org_id).path
