"""Share requests and grants over JSON (included by ``datahub.api`` under /api/datahub)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from sqlalchemy import select
from sqlalchemy.orm import Session

from zerotrip.common import clock
from zerotrip.config import Settings
from zerotrip.datahub import sharing, sharing_queries
from zerotrip.datahub.models import Grant, Resource, ShareRequest
from zerotrip.datahub.schemas_sharing import (
    GrantRead,
    GrantRevocation,
    ShareRequestCreate,
    ShareRequestPage,
    ShareRequestRead,
    ShareRequestRefusal,
)
from zerotrip.db import transaction
from zerotrip.deps import DB, CurrentActor, get_settings

router = APIRouter(tags=["datahub: sharing"])
AppSettings = Annotated[Settings, Depends(get_settings)]
Status = Literal["pending", "approved", "refused", "withdrawn"]


@router.post(
    "/share-requests", response_model=ShareRequestRead, status_code=201, summary="Request shared data"
)
def create_share_request(
    body: ShareRequestCreate, db: DB, actor: CurrentActor, settings: AppSettings
) -> ShareRequestRead:
    """Unconditional fields are granted at once (see `grants`); the rest wait for the owning steward."""
    with transaction(db):
        request = sharing.request_share(
            db,
            actor=actor,
            resource_code=body.resource_code,
            fields=body.fields,
            purpose=body.purpose,
            legal_basis=body.legal_basis,
            is_clear_requested=body.is_clear_requested,
            settings=settings.datahub,
        )
        return share_request_reads(db, [request])[0]


@router.get("/share-requests", response_model=ShareRequestPage, summary="Share requests you may see")
def list_share_requests(
    db: DB,
    actor: CurrentActor,
    status: Status | None = Query(None),
    overdue: bool = Query(False, description="Only requests still waiting past their deadline."),
    page: int = Query(1, ge=1),
    per_page: int = Query(20, ge=1, le=100),
) -> ShareRequestPage:
    rows, total = sharing_queries.list_share_requests(
        db, actor=actor, status=status, is_overdue_only=overdue, page=page, per_page=per_page
    )
    return ShareRequestPage(items=share_request_reads(db, rows), total=total, page=page, per_page=per_page)


@router.get("/share-requests/{number}", response_model=ShareRequestRead, summary="One share request")
def read_share_request(number: str, db: DB, actor: CurrentActor) -> ShareRequestRead:
    return share_request_reads(db, [sharing_queries.get_share_request(db, actor=actor, number=number)])[0]


@router.post("/share-requests/{number}/approve", response_model=ShareRequestRead, summary="Approve (steward)")
def approve_share_request(
    number: str, db: DB, actor: CurrentActor, settings: AppSettings
) -> ShareRequestRead:
    with transaction(db):
        grant = sharing.approve_share_request(db, actor=actor, number=number, settings=settings.datahub)
        request = db.get(ShareRequest, grant.request_id)
        assert request is not None
        return share_request_reads(db, [request])[0]


@router.post(
    "/share-requests/{number}/refuse", response_model=ShareRequestRead, summary="Refuse with a reason"
)
def refuse_share_request(
    number: str, body: ShareRequestRefusal, db: DB, actor: CurrentActor
) -> ShareRequestRead:
    with transaction(db):
        request = sharing.refuse_share_request(db, actor=actor, number=number, reason=body.reason)
        return share_request_reads(db, [request])[0]


@router.post(
    "/share-requests/{number}/withdraw", response_model=ShareRequestRead, summary="Withdraw (consumer)"
)
def withdraw_share_request(number: str, db: DB, actor: CurrentActor) -> ShareRequestRead:
    with transaction(db):
        request = sharing.withdraw_share_request(db, actor=actor, number=number)
        return share_request_reads(db, [request])[0]


@router.get("/grants", response_model=list[GrantRead], summary="Grants: a consumer's own, a steward's")
def list_grants(
    db: DB, actor: CurrentActor, live: bool = Query(False, description="Only grants in force now.")
) -> list[GrantRead]:
    return grant_reads(db, sharing_queries.list_grants(db, actor=actor, is_live_only=live))


@router.post("/grants/{grant_id}/revoke", response_model=GrantRead, summary="Revoke a grant")
def revoke_grant(grant_id: uuid.UUID, body: GrantRevocation, db: DB, actor: CurrentActor) -> GrantRead:
    with transaction(db):
        grant = sharing.revoke_grant(db, actor=actor, grant_id=grant_id, reason=body.reason)
        return grant_reads(db, [grant])[0]


def share_request_reads(db: Session, requests: list[ShareRequest]) -> list[ShareRequestRead]:
    now = clock.now()
    grants = sharing_queries.list_request_grants(db, [r.id for r in requests])
    codes = _resource_codes(db, {r.resource_id for r in requests})
    numbers = {r.id: r.number for r in requests}
    return [
        ShareRequestRead(
            number=r.number,
            resource_code=codes[r.resource_id][0],
            resource_title=codes[r.resource_id][1],
            consumer_client_id=r.consumer_client_id,
            consumer_org_id=r.consumer_org_id,
            fields=list(r.fields),
            purpose=r.purpose,
            legal_basis=r.legal_basis,
            is_clear_requested=r.is_clear_requested,
            status=r.status,
            requested_at=r.requested_at,
            due_at=r.due_at,
            decided_at=r.decided_at,
            reason=r.reason,
            is_overdue=sharing_queries.is_overdue(r, now=now),
            is_escalated=r.is_escalated,
            grants=[_grant_read(g, codes, numbers, now) for g in grants if g.request_id == r.id],
        )
        for r in requests
    ]


def grant_reads(db: Session, grants: list[Grant]) -> list[GrantRead]:
    now = clock.now()
    codes = _resource_codes(db, {g.resource_id for g in grants})
    request_ids = {g.request_id for g in grants if g.request_id is not None}
    numbers = (
        dict(
            db.execute(
                select(ShareRequest.id, ShareRequest.number).where(ShareRequest.id.in_(request_ids))
            ).all()
        )
        if request_ids
        else {}
    )
    return [_grant_read(g, codes, numbers, now) for g in grants]


def _grant_read(
    grant: Grant, codes: dict[int, tuple[str, str]], numbers: dict[uuid.UUID, str], now: datetime
) -> GrantRead:
    return GrantRead(
        id=grant.id,
        request_number=numbers.get(grant.request_id) if grant.request_id else None,
        resource_code=codes[grant.resource_id][0],
        consumer_client_id=grant.consumer_client_id,
        fields=list(grant.fields),
        purpose=grant.purpose,
        is_clear=grant.is_clear,
        granted_at=grant.granted_at,
        expires_at=grant.expires_at,
        revoked_at=grant.revoked_at,
        revoke_reason=grant.revoke_reason,
        is_live=sharing_queries.is_live(grant, now=now),
    )


def _resource_codes(db: Session, ids: set[int]) -> dict[int, tuple[str, str]]:
    if not ids:
        return {}
    rows = db.execute(select(Resource.id, Resource.code, Resource.title).where(Resource.id.in_(ids))).all()
    return {r[0]: (r[1], r[2]) for r in rows}
