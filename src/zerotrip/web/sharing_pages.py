"""The steward's share requests and objections, with their decision forms, and the operator's oversight."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import Response

from zerotrip.config import Settings
from zerotrip.db import transaction
from zerotrip.deps import Caller, get_settings, resolve_caller
from zerotrip.problems import Conflict, Problem, ValidationFailed
from zerotrip.web import csrf, oversight_views, sharing_views
from zerotrip.web.auth_pages import STAFF
from zerotrip.web.datahub_text import ProblemView, Text, problem_view
from zerotrip.web.i18n import N_
from zerotrip.web.page_kit import DB, check_staff, done_url, notice, sign_in_first, staff_links
from zerotrip.web.render import get_renderer, redirect

router = APIRouter(include_in_schema=False)
AppSettings = Annotated[Settings, Depends(get_settings)]
PageQuery = Annotated[int, Query(ge=1, le=100_000)]
TextForm = Annotated[str, Form(max_length=4000)]
ShortQuery = Annotated[str | None, Query(max_length=40)]
REQUESTS = "/staff/datahub/requests"
OBJECTIONS = "/staff/datahub/objections"
# Problems a decision form shows above the list, so the steward can correct the form and try again.
FORM_PROBLEMS = (ValidationFailed, Conflict)
ANSWER_LABELS = {"answer": N_("Answer"), "corrected_value": N_("Correct value"), "reason": N_("Reason")}


def _staff(request: Request, caller: Caller) -> Response | None:
    if not caller.actor.is_authenticated:
        return sign_in_first(request, STAFF)
    check_staff(caller.actor)
    return None


@router.get(REQUESTS)
def share_requests(
    request: Request,
    db: DB,
    status: Annotated[str, Query(max_length=20)] = "pending",
    page: PageQuery = 1,
    done: ShortQuery = None,
    ref: ShortQuery = None,
) -> Response:
    with transaction(db):
        caller = resolve_caller(request, db)
        if (away := _staff(request, caller)) is not None:
            return away
        view = sharing_views.share_requests(db, caller.actor, status=status, page=page)
    return _queue_page(request, caller, view, section="requests", notices=notice(done, ref))


def _queue_page(
    request: Request,
    caller: Caller,
    view: sharing_views.RequestsView | sharing_views.ObjectionsView,
    *,
    section: Literal["requests", "objections"],
    notices: tuple[Text, ...] = (),
    problem: ProblemView | None = None,
    about: str | None = None,
    status_code: int = 200,
) -> Response:
    """A steward's work queue: share requests or objections, with the forms that decide them."""
    return get_renderer(request).render(
        request,
        f"datahub/{section}.html",
        caller=caller,
        status_code=status_code,
        view=view,
        csrf_token=caller.csrf_token,
        notices=notices,
        problem=problem,
        about=about,
        links=staff_links(caller.actor, section),
    )


@router.post(REQUESTS + "/{number}/{decision}")
def decide_share_request(
    request: Request,
    db: DB,
    settings: AppSettings,
    number: str,
    decision: Literal["approve", "refuse"],
    reason: TextForm = "",
    csrf_token: TextForm = "",
) -> Response:
    with transaction(db):
        caller = resolve_caller(request, db)
        csrf.check_token(caller.csrf_token, csrf_token)
        check_staff(caller.actor)
    try:
        with transaction(db):
            sharing_views.decide_share_request(
                db, caller.actor, number=number, decision=decision, reason=reason, settings=settings.datahub
            )
    except FORM_PROBLEMS as problem:
        return _after_failed_decision(request, db, caller, problem, number)
    return redirect(done_url(REQUESTS, "approved" if decision == "approve" else "refused", number))


def _after_failed_decision(
    request: Request, db: DB, caller: Caller, problem: Problem, number: str
) -> Response:
    with transaction(db):
        view = sharing_views.share_requests(db, caller.actor, status="pending", page=1)
    return _queue_page(
        request,
        caller,
        view,
        section="requests",
        problem=problem_view(problem, labels=ANSWER_LABELS),
        about=number,
        status_code=problem.status,
    )


@router.get(OBJECTIONS)
def objections(
    request: Request,
    db: DB,
    status: Annotated[str, Query(max_length=20)] = "open",
    page: PageQuery = 1,
    done: ShortQuery = None,
    ref: ShortQuery = None,
    told: Annotated[int | None, Query(ge=0, le=100_000)] = None,
) -> Response:
    with transaction(db):
        caller = resolve_caller(request, db)
        if (away := _staff(request, caller)) is not None:
            return away
        view = sharing_views.steward_objections(db, caller.actor, status=status, page=page)
    return _queue_page(request, caller, view, section="objections", notices=notice(done, ref, told))


@router.post(OBJECTIONS + "/{number}/{outcome}")
def answer_objection(
    request: Request,
    db: DB,
    number: str,
    outcome: Literal["corrected", "rejected"],
    answer: TextForm = "",
    corrected_value: Annotated[str, Form(max_length=200)] = "",
    csrf_token: TextForm = "",
) -> Response:
    with transaction(db):
        caller = resolve_caller(request, db)
        csrf.check_token(caller.csrf_token, csrf_token)
        check_staff(caller.actor)
    try:
        with transaction(db):
            told = sharing_views.answer_objection(
                db,
                caller.actor,
                number=number,
                outcome=outcome,
                answer=answer,
                corrected_value=corrected_value,
            )
    except FORM_PROBLEMS as problem:
        with transaction(db):
            view = sharing_views.steward_objections(db, caller.actor, status="open", page=1)
        return _queue_page(
            request,
            caller,
            view,
            section="objections",
            problem=problem_view(problem, labels=ANSWER_LABELS),
            about=number,
            status_code=problem.status,
        )
    return redirect(done_url(OBJECTIONS, outcome, number, told=told))


@router.get("/staff/datahub/oversight")
def oversight(request: Request, db: DB) -> Response:
    with transaction(db):
        caller = resolve_caller(request, db)
        if (away := _staff(request, caller)) is not None:
            return away
        view = oversight_views.oversight(db, caller.actor)
    return get_renderer(request).render(
        request,
        "datahub/oversight.html",
        caller=caller,
        view=view,
        links=staff_links(caller.actor, "oversight"),
    )
