"""Applying online (在线办理): from an item's guide to a draft, consent, the prefilled form, submission and
the decision; and the citizen's list of applications. Every form posts, then redirects to the application
(POST → redirect → GET); a problem is shown on the application page itself."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import Response

from zerotrip.config import Settings
from zerotrip.datahub.api_gateway import worker_state
from zerotrip.db import transaction
from zerotrip.deps import Caller, get_keys, get_settings, resolve_caller
from zerotrip.keys import KeyStore
from zerotrip.problems import Problem
from zerotrip.services import applications, applying, uploads, wallet_evidence
from zerotrip.services.errors import ApplicationClosed, EvidenceIncomplete, InvalidUpload
from zerotrip.web import csrf
from zerotrip.web import services_apply_views as views
from zerotrip.web import services_wallet_views as wallet_views
from zerotrip.web.auth_pages import CITIZEN
from zerotrip.web.datahub_text import ProblemView
from zerotrip.web.page_kit import DB, check_citizen, sign_in_first
from zerotrip.web.render import get_renderer, redirect

router = APIRouter(include_in_schema=False)
AppSettings = Annotated[Settings, Depends(get_settings)]
Keys = Annotated[KeyStore, Depends(get_keys)]
Token = Annotated[str, Form()]
Flag = Annotated[str, Form()]
PageQuery = Annotated[int, Query(ge=1, le=100_000)]
# What a form on the application page may fail with and show on the page, instead of an error page.
SHOWN_ON_PAGE: tuple[type[Problem], ...] = (
    EvidenceIncomplete,
    InvalidUpload,
    ApplicationClosed,
    *wallet_views.REFUSED,
)
# The certificate chosen for an e-certificate material: "POSITION NUMBER", one select per material.
Choices = Annotated[list[str], Form()]


def application_url(number: str) -> str:
    return f"/me/applications/{applications.normalise_number(number)}"


def render_application(
    request: Request,
    caller: Caller,
    view: views.ApplicationView,
    problem: ProblemView | None = None,
    status_code: int = 200,
) -> Response:
    template = "services/apply.html" if view.is_draft else "services/apply_status.html"
    return get_renderer(request).render(
        request,
        template,
        caller=caller,
        status_code=status_code,
        view=view,
        csrf_token=caller.csrf_token,
        problem=problem,
    )


def signed_in_citizen(request: Request, db: DB, csrf_token: str) -> Caller:
    with transaction(db):
        caller = resolve_caller(request, db)
        csrf.check_token(caller.csrf_token, csrf_token)
        check_citizen(caller.actor)
    return caller


def show_problem(
    request: Request, db: DB, caller: Caller, number: str, settings: Settings, problem: Problem
) -> Response:
    with transaction(db):
        view = views.application(db, caller.actor, number, settings.services)
    return render_application(request, caller, view, views.problem(problem, view), problem.status)


@router.post("/services/items/{code}/apply")
def start(request: Request, db: DB, code: str, csrf_token: Token = "") -> Response:
    """在线办理: a draft for the item (the open draft of it is resumed)."""
    caller = signed_in_citizen(request, db, csrf_token)
    with transaction(db):
        draft = applying.start_application(db, actor=caller.actor, item_code=code)
        number = draft.number
    return redirect(application_url(number))


@router.get("/me/applications")
def my_applications(request: Request, db: DB, page: PageQuery = 1) -> Response:
    with transaction(db):
        caller = resolve_caller(request, db)
        if not caller.actor.is_authenticated:
            return sign_in_first(request, CITIZEN)
        check_citizen(caller.actor)
        view = views.my_applications(db, caller.actor, page=page)
    return get_renderer(request).render(request, "services/apply_list.html", caller=caller, view=view)


@router.get("/me/applications/{number}")
def application(request: Request, db: DB, number: str, settings: AppSettings) -> Response:
    with transaction(db):
        caller = resolve_caller(request, db)
        if not caller.actor.is_authenticated:
            return sign_in_first(request, CITIZEN)
        check_citizen(caller.actor)
        view = views.application(db, caller.actor, number, settings.services)
    return render_application(request, caller, view)


@router.post("/me/applications/{number}/consent")
def consent(
    request: Request,
    db: DB,
    number: str,
    settings: AppSettings,
    keys: Keys,
    csrf_token: Token = "",
    certificate: Choices = [],  # noqa: B006 - FastAPI copies the default
) -> Response:
    caller = signed_in_citizen(request, db, csrf_token)
    chosen = {}
    for choice in certificate:
        position, _, chosen_number = choice.partition(" ")
        if position.isdigit() and chosen_number:
            chosen[int(position)] = chosen_number
    wallet = wallet_evidence.WalletAccess(keys=keys, settings=settings, chosen=chosen)
    try:
        with transaction(db):
            applying.consent_and_fetch(
                db,
                actor=caller.actor,
                number=number,
                settings=settings.services,
                catalogue=worker_state(request.app.state).catalogue,
                wallet=wallet,
            )
    except SHOWN_ON_PAGE as problem:
        return show_problem(request, db, caller, number, settings, problem)
    return redirect(application_url(number) + "#form-title")


@router.post("/me/applications/{number}/materials/{position}/decline")
def decline(
    request: Request, db: DB, number: str, position: int, settings: AppSettings, csrf_token: Token = ""
) -> Response:
    caller = signed_in_citizen(request, db, csrf_token)
    try:
        with transaction(db):
            applying.decline_consent(db, actor=caller.actor, number=number, position=position)
    except SHOWN_ON_PAGE as problem:
        return show_problem(request, db, caller, number, settings, problem)
    return redirect(application_url(number) + "#uploads-title")


@router.post("/me/applications/{number}/materials/{position}/upload")
def upload(
    request: Request,
    db: DB,
    number: str,
    position: int,
    settings: AppSettings,
    file: Annotated[UploadFile | None, File()] = None,
    csrf_token: Token = "",
) -> Response:
    caller = signed_in_citizen(request, db, csrf_token)
    if file is None or not file.filename:
        with transaction(db):
            view = views.application(db, caller.actor, number, settings.services)
        return render_application(request, caller, view, views.message(views.NO_FILE), 422)
    limit = settings.services.upload_max_bytes
    content = file.file.read(limit + 1)
    try:
        if len(content) > limit:
            raise InvalidUpload.field("file", f"the file is larger than {limit} bytes")
        with transaction(db):
            uploads.attach_upload(
                db,
                actor=caller.actor,
                number=number,
                position=position,
                filename=file.filename,
                content=content,
                settings=settings,
            )
    except SHOWN_ON_PAGE as problem:
        return show_problem(request, db, caller, number, settings, problem)
    return redirect(application_url(number) + "#uploads-title")


@router.post("/me/applications/{number}/submit")
def submit(
    request: Request,
    db: DB,
    number: str,
    settings: AppSettings,
    keys: Keys,
    csrf_token: Token = "",
    pledge: Flag = "",
    human_review: Flag = "",
) -> Response:
    caller = signed_in_citizen(request, db, csrf_token)
    try:
        with transaction(db):
            applying.submit_application(
                db,
                actor=caller.actor,
                number=number,
                keys=keys,
                settings=settings,
                pledge=pledge == "yes",
                human_review=human_review == "yes",
            )
    except SHOWN_ON_PAGE as problem:
        return show_problem(request, db, caller, number, settings, problem)
    return redirect(application_url(number))


@router.post("/me/applications/{number}/withdraw")
def withdraw(
    request: Request, db: DB, number: str, settings: AppSettings, csrf_token: Token = ""
) -> Response:
    caller = signed_in_citizen(request, db, csrf_token)
    try:
        with transaction(db):
            applying.withdraw_application(db, actor=caller.actor, number=number)
    except SHOWN_ON_PAGE as problem:
        return show_problem(request, db, caller, number, settings, problem)
    return redirect(application_url(number))
