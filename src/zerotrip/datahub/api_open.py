"""Open data and return feeds over JSON: the public portal's API (anonymous for open resources), the DCAT
catalogue, CSV and JSON downloads, applications for restricted data, and region-filtered change feeds."""

from __future__ import annotations

import math
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse
from sqlalchemy.orm import Session, sessionmaker

from zerotrip.config import Settings
from zerotrip.datahub import dcat, feed, grades, open_access, opendata, queries
from zerotrip.datahub.models import OpenAccessApplication, Resource
from zerotrip.datahub.schemas_open import (
    FeedItemRead,
    FeedPageRead,
    OpenApplicationCreate,
    OpenApplicationDecision,
    OpenApplicationRead,
    OpenFieldRead,
    OpenRecordPage,
    OpenResourcePage,
    OpenResourceRead,
    OpenResourceSummary,
)
from zerotrip.db import transaction
from zerotrip.deps import DB, AnyActor, CurrentActor, get_settings
from zerotrip.identity import queries as identity_queries
from zerotrip.identity.actor import Actor
from zerotrip.problems import RateLimited

AppSettings = Annotated[Settings, Depends(get_settings)]


class PerMinuteLimit:
    """At most ``limit`` hits per key in each clock minute. The counts are dropped when the minute turns,
    so memory stays bounded by the addresses seen in one minute however many come and go. Lives in one
    worker process: N workers admit up to N times the limit."""

    def __init__(self, limit: int, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self._monotonic = monotonic
        self._minute = -1
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()  # sync routes run in a thread pool

    def hit(self, key: str) -> int | None:
        """Count one request; None when allowed, else the whole seconds until the next minute."""
        now = self._monotonic()
        minute = int(now // 60)
        with self._lock:
            if minute != self._minute:
                self._minute = minute
                self._counts.clear()
            count = self._counts.get(key, 0)
            if count >= self.limit:
                return max(1, math.ceil((minute + 1) * 60 - now))
            self._counts[key] = count + 1
            return None


_limit_lock = threading.Lock()


def limit_by_address(request: Request, settings: AppSettings) -> None:
    """The open data API is anonymous, so callers are told apart by address alone."""
    rate = settings.datahub.open_rate_per_minute
    if rate == 0:
        return
    with _limit_lock:
        limit: PerMinuteLimit | None = getattr(request.app.state, "datahub_open_limit", None)
        if limit is None:
            limit = PerMinuteLimit(rate)
            request.app.state.datahub_open_limit = limit
    wait = limit.hit(request.client.host if request.client else "unknown")
    if wait is not None:
        raise RateLimited(
            f"too many open data requests from your address; try again in {wait} s", retry_after=wait
        )


router = APIRouter(tags=["datahub: open data"])
open_router = APIRouter(dependencies=[Depends(limit_by_address)])

FILTER_HELP = (
    "Any other query parameter filters by equality on a visible field, e.g. `?district=330106`. "
    "`sort` takes comma-separated field names, `-` for descending (`?sort=-registrations`)."
)


def _owner_name(db: Session, org_id: int) -> str:
    return identity_queries.get_organisation(db, org_id).name


def _base(request: Request) -> str:
    return f"/api/datahub/open/resources/{request.path_params['code']}"


@open_router.get("/open/resources", response_model=OpenResourcePage, summary="Search the open data catalogue")
def search_open_resources(
    db: DB,
    q: str | None = Query(None, max_length=100),
    page: int = Query(1, ge=1),
    per_page: int = Query(20, ge=1, le=100),
) -> OpenResourcePage:
    rows, total = queries.list_resources(
        db, search=q, open_types=list(opendata.OPEN_KINDS), page=page, per_page=per_page
    )
    owners = {o: _owner_name(db, o) for o in {r.owner_org_id for r in rows}}
    items = [
        OpenResourceSummary(
            code=r.code,
            title=r.title,
            title_en=r.title_en,
            owner_name=owners[r.owner_org_id],
            open_type=r.open_type,
            update_frequency=r.update_frequency,
            keywords=list(r.keywords),
            data_updated_at=r.data_updated_at,
        )
        for r in rows
    ]
    return OpenResourcePage(items=items, total=total, page=page, per_page=per_page)


@open_router.get(
    "/open/resources/{code}", response_model=OpenResourceRead, summary="An open resource's description"
)
def read_open_resource(code: str, request: Request, db: DB, actor: AnyActor) -> OpenResourceRead:
    resource = opendata.get_open_resource(db, code)
    fields = opendata.openable_fields(resource, queries.list_fields(db, resource.id))
    is_restricted = resource.open_type == "restricted"
    base = _base(request)
    return OpenResourceRead(
        code=resource.code,
        title=resource.title,
        title_en=resource.title_en,
        owner_name=_owner_name(db, resource.owner_org_id),
        open_type=resource.open_type,
        update_frequency=resource.update_frequency,
        keywords=list(resource.keywords),
        data_updated_at=resource.data_updated_at,
        description=resource.description,
        contact=resource.contact,
        legal_basis=resource.legal_basis,
        updated_at=resource.updated_at,
        fields=[
            OpenFieldRead(
                name=f.name,
                title=f.title,
                type=f.type,
                description=f.description,
                open_type=grades.effective_open_type(resource.open_type, f.grade),
                is_masked=is_restricted and f.grade >= 2,
            )
            for f in fields
        ],
        has_access=not is_restricted or open_access.has_open_access(db, actor=actor, resource=resource),
        links={"records": f"{base}/records", "csv": f"{base}/download.csv", "json": f"{base}/download.json"},
    )


@open_router.get(
    "/open/resources/{code}/records",
    response_model=OpenRecordPage,
    summary="Filter, sort and page an open resource's records",
    description=FILTER_HELP,
)
def list_open_records(
    code: str,
    request: Request,
    db: DB,
    actor: AnyActor,
    sort: str | None = Query(None, max_length=300),
    page: int = Query(1, ge=1, le=100_000),
    per_page: int = Query(50, ge=1, le=1000),
) -> OpenRecordPage:
    query = opendata.RecordQuery.from_parameters(request.query_params.multi_items(), sort)
    with transaction(db):
        view = opendata.open_view(db, actor=actor, code=code)
        items, total = opendata.list_open_records(db, view=view, query=query, page=page, per_page=per_page)
        opendata.record_restricted_read(db, actor=actor, view=view, what="records", rows=len(items))
    return OpenRecordPage(fields=view.names, items=items, total=total, page=page, per_page=per_page)


def _download(request: Request, db: Session, actor: Actor, code: str, kind: str) -> StreamingResponse:
    query = opendata.RecordQuery.from_parameters(
        request.query_params.multi_items(), request.query_params.get("sort")
    )
    with transaction(db):
        view = opendata.open_view(db, actor=actor, code=code)
        opendata.record_statement(
            view, query
        )  # refuse bad filters now, while a problem response is still possible
        opendata.record_restricted_read(db, actor=actor, view=view, what=f"download.{kind}", rows=None)
    factory: sessionmaker[Session] = request.app.state.session_factory

    def chunks() -> Iterator[bytes]:
        # The request's session closes when the route returns; the stream reads with a session of its own,
        # in one statement, so the file is one consistent snapshot however long the client takes.
        with factory() as stream_db:
            rows = opendata.iter_open_records(stream_db, view=view, query=query)
            if kind == "csv":
                yield from opendata.csv_chunks(view.names, rows)
            else:
                yield from opendata.json_chunks(rows)

    media = "text/csv; charset=utf-8" if kind == "csv" else "application/json"
    headers = {"Content-Disposition": f'attachment; filename="{view.resource.code}.{kind}"'}
    return StreamingResponse(chunks(), media_type=media, headers=headers)


@open_router.get(
    "/open/resources/{code}/download.csv",
    response_class=StreamingResponse,
    summary="Download an open resource as CSV (UTF-8 with BOM)",
    description=FILTER_HELP,
)
def download_csv(code: str, request: Request, db: DB, actor: AnyActor) -> StreamingResponse:
    return _download(request, db, actor, code, "csv")


@open_router.get(
    "/open/resources/{code}/download.json",
    response_class=StreamingResponse,
    summary="Download an open resource as a JSON array",
    description=FILTER_HELP,
)
def download_json(code: str, request: Request, db: DB, actor: AnyActor) -> StreamingResponse:
    return _download(request, db, actor, code, "json")


@open_router.get("/open/catalog.jsonld", summary="The open data catalogue as DCAT (JSON-LD)")
def dcat_catalog(db: DB, settings: AppSettings) -> JSONResponse:
    document = dcat.build_catalog(db, base_url=settings.web.public_url)
    return JSONResponse(document, media_type="application/ld+json")


# -- applications for restricted resources ----------------------------------------------------------


def _application_read(application: OpenAccessApplication, resource_code: str) -> OpenApplicationRead:
    return OpenApplicationRead(
        id=application.id,
        resource_code=resource_code,
        client_id=application.client_id,
        applicant=application.applicant,
        purpose=application.purpose,
        status=application.status,
        applied_at=application.applied_at,
        decided_at=application.decided_at,
        reason=application.reason,
    )


@router.post(
    "/open/resources/{code}/applications",
    response_model=OpenApplicationRead,
    status_code=201,
    summary="Apply to use a restricted resource (API clients with datahub.open.apply)",
)
def apply_for_open_access(
    code: str, body: OpenApplicationCreate, db: DB, actor: CurrentActor
) -> OpenApplicationRead:
    with transaction(db):
        application = open_access.apply_for_open_access(db, actor=actor, code=code, purpose=body.purpose)
        return _application_read(application, code)


@router.get(
    "/open/applications",
    response_model=list[OpenApplicationRead],
    summary="Applications: a client's own, or those a steward decides",
)
def list_open_applications(
    db: DB, actor: CurrentActor, status: str | None = Query(None, pattern="^(pending|approved|refused)$")
) -> list[OpenApplicationRead]:
    rows = open_access.list_open_applications(db, actor=actor, status=status)
    return [_application_read(a, code) for a, code in rows]


@router.post(
    "/open/applications/{application_id}/decision",
    response_model=OpenApplicationRead,
    summary="Approve or refuse an application (the owning department's steward)",
)
def decide_open_application(
    application_id: uuid.UUID, body: OpenApplicationDecision, db: DB, actor: CurrentActor
) -> OpenApplicationRead:
    with transaction(db):
        application = open_access.decide_open_application(
            db, actor=actor, application_id=application_id, approve=body.approve, reason=body.reason
        )
        resource = db.get(Resource, application.resource_id)
        assert resource is not None  # a foreign key guarantees it
        return _application_read(application, resource.code)


# -- return to lower levels -------------------------------------------------------------------------


@router.get(
    "/feeds/{code}",
    response_model=FeedPageRead,
    tags=["datahub: return feeds"],
    summary="A resource's changes in a region, after a cursor (API clients holding a grant)",
)
def read_feed(
    code: str,
    db: DB,
    actor: CurrentActor,
    settings: AppSettings,
    region: str | None = Query(None, description="Division code; default: the client's organisation's."),
    after: str | None = Query(None, max_length=20, description="The `next_cursor` of the previous page."),
    limit: int = Query(500, ge=1, le=feed.MAX_LIMIT),
) -> FeedPageRead:
    with transaction(db):
        page = feed.read_feed(
            db,
            actor=actor,
            code=code,
            region=region,
            after=after,
            limit=limit,
            lag_seconds=settings.datahub.feed_lag_seconds,
        )
    items: list[Any] = [FeedItemRead.model_validate(item, from_attributes=True) for item in page.items]
    return FeedPageRead(items=items, next_cursor=page.next_cursor, has_more=page.has_more, region=page.region)


router.include_router(open_router)
