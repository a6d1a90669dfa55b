"""The data steward's pages: the catalogue, one resource, loading a file, and a load's report."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import Response

from zerotrip.datahub.errors import UnreadableFile
from zerotrip.db import transaction
from zerotrip.deps import Caller, resolve_caller
from zerotrip.web import csrf, datahub_views, load_views
from zerotrip.web.auth_pages import STAFF
from zerotrip.web.datahub_text import ProblemView, message_view, problem_view
from zerotrip.web.i18n import N_
from zerotrip.web.page_kit import DB, check_staff, sign_in_first, staff_links
from zerotrip.web.render import get_renderer, redirect

router = APIRouter(include_in_schema=False)
PageQuery = Annotated[int, Query(ge=1, le=100_000)]
NO_FILE = N_("Choose a CSV, JSON or XLSX file to load.")


@router.get("/staff/datahub")
def catalogue(
    request: Request, db: DB, q: Annotated[str, Query(max_length=100)] = "", page: PageQuery = 1
) -> Response:
    with transaction(db):
        caller = resolve_caller(request, db)
        if not caller.actor.is_authenticated:
            return sign_in_first(request, STAFF)
        check_staff(caller.actor)
        view = datahub_views.catalogue(db, caller.actor, search=q, page=page)
    return get_renderer(request).render(
        request,
        "datahub/catalogue.html",
        caller=caller,
        view=view,
        links=staff_links(caller.actor, "catalogue"),
    )


@router.get("/staff/datahub/resources/{code}")
def resource(request: Request, db: DB, code: str) -> Response:
    with transaction(db):
        caller = resolve_caller(request, db)
        if not caller.actor.is_authenticated:
            return sign_in_first(request, STAFF)
        check_staff(caller.actor)
        view = datahub_views.resource(db, caller.actor, code)
    return get_renderer(request).render(
        request,
        "datahub/resource.html",
        caller=caller,
        view=view,
        links=staff_links(caller.actor, "catalogue"),
    )


def _load_page(
    request: Request, caller: Caller, form: load_views.LoadForm, problem: ProblemView | None = None
) -> Response:
    return get_renderer(request).render(
        request,
        "datahub/load.html",
        caller=caller,
        status_code=422 if problem else 200,
        csrf_token=caller.csrf_token,
        form=form,
        problem=problem,
        links=staff_links(caller.actor, "catalogue"),
    )


@router.get("/staff/datahub/resources/{code}/load")
def load_form(request: Request, db: DB, code: str) -> Response:
    with transaction(db):
        caller = resolve_caller(request, db)
        if not caller.actor.is_authenticated:
            return sign_in_first(request, STAFF)
        check_staff(caller.actor)
        form = load_views.load_form(db, caller.actor, code)
    return _load_page(request, caller, form)


@router.post("/staff/datahub/resources/{code}/load")
def load_file(
    request: Request,
    db: DB,
    code: str,
    file: Annotated[UploadFile | None, File()] = None,
    format: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    with transaction(db):
        caller = resolve_caller(request, db)
        csrf.check_token(caller.csrf_token, csrf_token)
        check_staff(caller.actor)
        form = load_views.load_form(db, caller.actor, code)
    if file is None or not file.filename:
        return _load_page(request, caller, form, message_view(NO_FILE))
    try:
        # The upload is already spooled to a temporary file; the load reads it one row at a time.
        with transaction(db):
            batch_id = load_views.load_file(
                db, caller.actor, code=code, file=file.file, filename=file.filename, format=format
            )
    except UnreadableFile as problem:
        return _load_page(request, caller, form, problem_view(problem))
    return redirect(f"/staff/datahub/batches/{batch_id}")


@router.get("/staff/datahub/batches/{batch_id}")
def batch(request: Request, db: DB, batch_id: str, page: PageQuery = 1) -> Response:
    with transaction(db):
        caller = resolve_caller(request, db)
        if not caller.actor.is_authenticated:
            return sign_in_first(request, STAFF)
        check_staff(caller.actor)
        view = load_views.batch(db, caller.actor, load_views.parse_batch_id(batch_id), page=page)
    return get_renderer(request).render(
        request, "datahub/batch.html", caller=caller, view=view, links=staff_links(caller.actor, "catalogue")
    )
