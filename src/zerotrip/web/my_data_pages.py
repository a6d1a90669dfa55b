"""The citizen's data pages: the data-use log (数据使用记录), their objections, and raising one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from zerotrip.config import Settings
from zerotrip.datahub.errors import ObjectionNotAllowed
from zerotrip.db import transaction
from zerotrip.deps import Caller, get_settings, resolve_caller
from zerotrip.problems import ValidationFailed
from zerotrip.web import csrf, my_data_views
from zerotrip.web.auth_pages import CITIZEN
from zerotrip.web.datahub_text import ProblemView, problem_view
from zerotrip.web.i18n import N_
from zerotrip.web.page_kit import DB, check_citizen, done_url, notice, sign_in_first
from zerotrip.web.render import get_renderer, redirect

router = APIRouter(include_in_schema=False)
AppSettings = Annotated[Settings, Depends(get_settings)]
CodeQuery = Annotated[str, Query(max_length=80)]
ShortQuery = Annotated[str | None, Query(max_length=40)]
FORM_LABELS = {"field": N_("Which value is wrong"), "claim": N_("What is wrong")}
MAX_VALUE = 4000


async def form_values(request: Request) -> dict[str, str]:
    """The submitted form's text fields (the key fields' names depend on the resource), cut to size."""
    form = await request.form()
    return {name: value[:MAX_VALUE] for name, value in form.items() if isinstance(value, str)}


FormValues = Annotated[dict[str, str], Depends(form_values)]


@router.get("/me/data-uses")
def data_uses(request: Request, db: DB) -> Response:
    with transaction(db):
        caller = resolve_caller(request, db)
        if not caller.actor.is_authenticated:
            return sign_in_first(request, CITIZEN)
        view = my_data_views.data_uses(db, caller.actor)
    return get_renderer(request).render(request, "datahub/my_data_uses.html", caller=caller, view=view)


@router.get("/me/objections")
def my_objections(request: Request, db: DB, done: ShortQuery = None, ref: ShortQuery = None) -> Response:
    with transaction(db):
        caller = resolve_caller(request, db)
        if not caller.actor.is_authenticated:
            return sign_in_first(request, CITIZEN)
        cards = my_data_views.my_objections(db, caller.actor)
    return get_renderer(request).render(
        request, "datahub/my_objections.html", caller=caller, cards=cards, notices=notice(done, ref)
    )


def _form_page(
    request: Request,
    caller: Caller,
    form: my_data_views.ObjectionForm,
    problem: ProblemView | None = None,
    status_code: int = 200,
) -> Response:
    return get_renderer(request).render(
        request,
        "datahub/objection_form.html",
        caller=caller,
        status_code=status_code,
        csrf_token=caller.csrf_token,
        form=form,
        problem=problem,
    )


@router.get("/me/objections/new")
def objection_form(request: Request, db: DB, resource: CodeQuery, field: CodeQuery = "") -> Response:
    with transaction(db):
        caller = resolve_caller(request, db)
        if not caller.actor.is_authenticated:
            return sign_in_first(request, CITIZEN)
        form = my_data_views.objection_form(db, caller.actor, code=resource, values={"field": field})
    return _form_page(request, caller, form)


@router.post("/me/objections")
def raise_objection(request: Request, db: DB, settings: AppSettings, values: FormValues) -> Response:
    code = values.get("resource", "")[:80]
    with transaction(db):
        caller = resolve_caller(request, db)
        csrf.check_token(caller.csrf_token, values.get("csrf_token", ""))
        check_citizen(caller.actor)
    try:
        with transaction(db):
            number = my_data_views.raise_objection(
                db, caller.actor, code=code, values=values, settings=settings.datahub
            )
    except (ValidationFailed, ObjectionNotAllowed) as problem:
        with transaction(db):
            form = my_data_views.objection_form(db, caller.actor, code=code, values=values)
        return _form_page(request, caller, form, problem_view(problem, labels=FORM_LABELS), problem.status)
    return redirect(done_url("/me/objections", "raised", number))
