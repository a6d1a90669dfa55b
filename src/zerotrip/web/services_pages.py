"""The service guide (办事指南) for everyone, and the trip analysis (跑动次数分析) for staff."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from zerotrip.db import transaction
from zerotrip.deps import resolve_caller
from zerotrip.web import services_views
from zerotrip.web.auth_pages import STAFF
from zerotrip.web.page_kit import DB, check_staff, sign_in_first
from zerotrip.web.render import get_renderer

router = APIRouter(include_in_schema=False)
PageQuery = Annotated[int, Query(ge=1, le=100_000)]
Short = Annotated[str, Query(max_length=100)]


@router.get("/services")
def guide(
    request: Request, db: DB, q: Short = "", department: Short = "", event: Short = "", page: PageQuery = 1
) -> Response:
    with transaction(db):
        caller = resolve_caller(request, db)
        view = services_views.guide(db, search=q, department=department, event=event, page=page)
    return get_renderer(request).render(request, "services/guide.html", caller=caller, view=view)


@router.get("/services/items/{code}")
def item(request: Request, db: DB, code: str) -> Response:
    with transaction(db):
        caller = resolve_caller(request, db)
        view = services_views.item(db, code)
    return get_renderer(request).render(request, "services/item.html", caller=caller, view=view)


@router.get("/staff/services/trips")
def trip_analysis(request: Request, db: DB) -> Response:
    with transaction(db):
        caller = resolve_caller(request, db)
        if not caller.actor.is_authenticated:
            return sign_in_first(request, STAFF)
        check_staff(caller.actor)
        view = services_views.trip_analysis(db, caller.actor)
    return get_renderer(request).render(request, "services/trips.html", caller=caller, view=view)
