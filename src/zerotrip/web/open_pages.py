"""The open data portal (开放数据): search the open resources, and preview, filter and download one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from zerotrip.db import transaction
from zerotrip.deps import resolve_caller
from zerotrip.web import open_views
from zerotrip.web.page_kit import DB
from zerotrip.web.render import get_renderer

router = APIRouter(include_in_schema=False)
PageQuery = Annotated[int, Query(ge=1, le=100_000)]
MAX_PARAMETER = 200


@router.get("/open")
def open_data(
    request: Request, db: DB, q: Annotated[str, Query(max_length=100)] = "", page: PageQuery = 1
) -> Response:
    with transaction(db):
        caller = resolve_caller(request, db)
        view = open_views.open_resources(db, search=q, page=page)
    return get_renderer(request).render(request, "open/index.html", caller=caller, view=view)


@router.get("/open/{code}")
def open_resource(request: Request, db: DB, code: str, page: PageQuery = 1) -> Response:
    # Every other parameter is an equality filter on the field it names, as in the open data API.
    parameters = {k: v[:MAX_PARAMETER] for k, v in request.query_params.items() if k != "page"}
    with transaction(db):
        caller = resolve_caller(request, db)
        view = open_views.open_resource(db, caller.actor, code=code, parameters=parameters, page=page)
    status = 422 if view.problem else 200
    return get_renderer(request).render(
        request, "open/resource.html", caller=caller, status_code=status, view=view
    )
