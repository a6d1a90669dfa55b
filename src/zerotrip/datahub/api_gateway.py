"""The gateway and the citizen's data-use log over JSON (included by ``datahub.api`` under /api/datahub).

The gateway's rate limit is a sliding window kept in this worker process's memory (see
``datahub.ratelimit``): with several workers, each enforces the limit on its own. So is its catalogue
cache (``datahub.cache``), which every call checks against the resource's version.

The gateway routes are ``async`` and run their work in the thread pool themselves: a synchronous route
costs FastAPI two thread hops (the route, then validating its answer), and the gateway is the platform's
hottest path. A call is its reads and one audit INSERT: on PostgreSQL run on a connection taken from the
pool in autocommit, without a Session (``db.autocommit_driver``: no BEGIN or COMMIT round trips, and
none of a Session's own cost), elsewhere in ``db.one_statement``. Answers are written by orjson from
plain data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

import orjson
from fastapi import APIRouter, Depends, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from zerotrip.config import Settings
from zerotrip.datahub import gateway, uselog
from zerotrip.datahub.cache import CatalogueCache
from zerotrip.datahub.ratelimit import SlidingWindowLimiter
from zerotrip.datahub.schemas_sharing import (
    DataUse,
    ExistsQuery,
    ExistsResult,
    LookupQuery,
    LookupResult,
)
from zerotrip.db import autocommit_driver, one_statement
from zerotrip.deps import DB, CallerActor, CurrentActor, request_session

router = APIRouter(tags=["datahub: gateway"])
T = TypeVar("T")


@dataclass(frozen=True)
class GatewayState:
    """What a worker process keeps for the gateway: its rate limiter and its catalogue cache."""

    limiter: SlidingWindowLimiter
    catalogue: CatalogueCache


async def gateway_state(request: Request) -> GatewayState:
    """The application's limiter and catalogue cache (so one of each per worker process), made on first
    use. One dependency without sub-dependencies, because FastAPI spends time on each one every call."""
    return worker_state(request.app.state)


def worker_state(app_state: Any) -> GatewayState:
    """The gateway's state kept on the application (``app.state``): also what in-process consumers pass
    the gateway when serving a request (services reading an applicant's materials)."""
    settings: Settings = app_state.settings
    limiter: SlidingWindowLimiter | None = getattr(app_state, "datahub_gateway_limiter", None)
    if limiter is None:
        limiter = app_state.datahub_gateway_limiter = SlidingWindowLimiter(
            settings.datahub.gateway_rate_per_minute
        )
    catalogue: CatalogueCache | None = getattr(app_state, "datahub_gateway_catalogue", None)
    if catalogue is None:
        catalogue = app_state.datahub_gateway_catalogue = CatalogueCache(
            settings.datahub.gateway_catalogue_seconds
        )
    return GatewayState(limiter=limiter, catalogue=catalogue)


State = Annotated[GatewayState, Depends(gateway_state)]


@router.post(
    "/gateway/{resource_code}/lookup",
    response_model=LookupResult,
    summary="Read subjects' records under a grant",
    responses={403: {"description": "No live grant covers the resource, fields and purpose"}, 429: {}},
)
async def lookup(resource_code: str, body: LookupQuery, request: Request, actor: CallerActor) -> Response:
    """Only granted fields, masked by grade unless the grant allows clear values, each record with its
    source department, last update and version. Every subject asked about is recorded in the audit log."""
    state = worker_state(request.app.state)
    results = await run_in_threadpool(
        _in_own_session,
        request,
        gateway.lookup_answer,
        actor=actor,
        resource_code=resource_code,
        subject_keys=body.subjects,
        fields=body.fields,
        purpose=body.purpose,
        on_behalf_of=body.on_behalf_of,
        limiter=state.limiter,
        catalogue=state.catalogue,
    )
    # Written by orjson from plain data, in the shape of LookupResult: no model per value.
    answer = {"resource_code": resource_code, "purpose": body.purpose, "results": results}
    return Response(orjson.dumps(answer, option=orjson.OPT_UTC_Z), media_type="application/json")


@router.post(
    "/gateway/{resource_code}/exists",
    response_model=ExistsResult,
    summary="Does the resource hold anything about this subject?",
    responses={403: {"description": "No live grant covers the subject field for this purpose"}, 429: {}},
)
async def exists(resource_code: str, body: ExistsQuery, request: Request, actor: CallerActor) -> Response:
    """A yes or no (for negative facts such as "holds no real estate"), revealing nothing else."""
    state = worker_state(request.app.state)
    answer = await run_in_threadpool(
        _in_own_session,
        request,
        gateway.exists,
        actor=actor,
        resource_code=resource_code,
        subject_key=body.subject,
        purpose=body.purpose,
        on_behalf_of=body.on_behalf_of,
        limiter=state.limiter,
        catalogue=state.catalogue,
    )
    # In the shape of ExistsResult, written by orjson as the lookup's answer is.
    return Response(orjson.dumps({"exists": answer}), media_type="application/json")


def _in_own_session(request: Request, work: Callable[..., T], **kwargs: Any) -> T:
    """``work(db, **kwargs)``: a gateway call's reads and its one audit INSERT. On PostgreSQL ``db`` is a
    ``Driver`` on a pooled connection in autocommit (the INSERT is atomic on its own, and only when it
    succeeded is the answer sent); elsewhere a session of its own in ``one_statement`` (one transaction)."""
    with autocommit_driver(request.app.state.session_factory) as driver:
        if driver is not None:
            return work(driver, **kwargs)
    with request_session(request) as db, one_statement(db):
        return work(db, **kwargs)


@router.get("/me/data-uses", response_model=list[DataUse], summary="Who used my data (citizens)")
def my_data_uses(db: DB, actor: CurrentActor, limit: int = Query(200, ge=1, le=1000)) -> list[DataUse]:
    return uselog.list_data_uses(db, actor=actor, limit=limit)
