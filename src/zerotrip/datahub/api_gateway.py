"""The gateway and the citizen's data-use log over JSON (included by ``datahub.api`` under /api/datahub).

The gateway's rate limit is a sliding window kept in this worker process's memory (see
``datahub.ratelimit``): with several workers, each enforces the limit on its own.
"""

from __future__ import annotations

import threading
from typing import Annotated, TypeVar

from fastapi import APIRouter, Depends, Query, Request

from zerotrip.config import Settings
from zerotrip.datahub import gateway, uselog
from zerotrip.datahub.ratelimit import SlidingWindowLimiter
from zerotrip.datahub.schemas_sharing import DataUse, ExistsQuery, ExistsResult, LookupQuery, LookupResult
from zerotrip.db import transaction
from zerotrip.deps import DB, CurrentActor, get_settings

router = APIRouter(tags=["datahub: gateway"])
_limiter_lock = threading.Lock()
T = TypeVar("T")


def gateway_limiter(
    request: Request, settings: Annotated[Settings, Depends(get_settings)]
) -> SlidingWindowLimiter:
    """One limiter per application (so per worker process), made on first use."""
    with _limiter_lock:
        limiter: SlidingWindowLimiter | None = getattr(request.app.state, "datahub_gateway_limiter", None)
        if limiter is None:
            limiter = SlidingWindowLimiter(settings.datahub.gateway_rate_per_minute)
            request.app.state.datahub_gateway_limiter = limiter
        return limiter


Limiter = Annotated[SlidingWindowLimiter, Depends(gateway_limiter)]


@router.post(
    "/gateway/{resource_code}/lookup",
    response_model=LookupResult,
    summary="Read subjects' records under a grant",
    responses={403: {"description": "No live grant covers the resource, fields and purpose"}, 429: {}},
)
def lookup(
    resource_code: str, body: LookupQuery, db: DB, actor: CurrentActor, limiter: Limiter
) -> LookupResult:
    """Only granted fields, masked by grade unless the grant allows clear values, each record with its
    source department, last update and version. Every subject asked about is recorded in the audit log."""
    with transaction(db):
        results = gateway.lookup(
            db,
            actor=actor,
            resource_code=resource_code,
            subject_keys=body.subjects,
            fields=body.fields,
            purpose=body.purpose,
            on_behalf_of=body.on_behalf_of,
            limiter=limiter,
        )
    return LookupResult(resource_code=resource_code, purpose=body.purpose, results=results)


@router.post(
    "/gateway/{resource_code}/exists",
    response_model=ExistsResult,
    summary="Does the resource hold anything about this subject?",
    responses={403: {"description": "No live grant covers the subject field for this purpose"}, 429: {}},
)
def exists(
    resource_code: str, body: ExistsQuery, db: DB, actor: CurrentActor, limiter: Limiter
) -> ExistsResult:
    """A yes or no (for negative facts such as "holds no real estate"), revealing nothing else."""
    with transaction(db):
        answer = gateway.exists(
            db,
            actor=actor,
            resource_code=resource_code,
            subject_key=body.subject,
            purpose=body.purpose,
            on_behalf_of=body.on_behalf_of,
            limiter=limiter,
        )
    return ExistsResult(exists=answer)


@router.get("/me/data-uses", response_model=list[DataUse], summary="Who used my data (citizens)")
def my_data_uses(db: DB, actor: CurrentActor, limit: int = Query(200, ge=1, le=1000)) -> list[DataUse]:
    return uselog.list_data_uses(db, actor=actor, limit=limit)
