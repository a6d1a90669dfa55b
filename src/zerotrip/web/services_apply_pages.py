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
from zerotrip.deps import Caller, get_keys, get_settings
from zerotrip.keys import KeyStore
from zerotrip.problems import Problem
from zerotrip.services import applications, applying, uploads, wallet_evidence
from zerotrip.services.errors import ApplicationClosed, EvidenceIncomplete, InvalidUpload
from zerotrip.web import services_apply_views as views
from zerotrip.web import services_wallet_views as wallet_views
from zerotrip.web.datahub_text import ProblemView
from zerotrip.web.page_kit import DB
from zerotrip.web.render import redirect
from zerotrip.web.services_forms import ApplicantPage, citizen_list, render_page, signed_in_citizen

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
    return render_page(request, caller, template, view, problem, status_code)


PAGE = ApplicantPage(
    view=views.application, render=render_application, problem=views.problem, shown=SHOWN_ON_PAGE
)


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
    return citizen_list(
        request, db, "services/apply_list.html", lambda db, actor: views.my_applications(db, actor, page=page)
    )


@router.get("/me/applications/{number}")
def application(request: Request, db: DB, number: str, settings: AppSettings) -> Response:
    return PAGE.open(request, db, number, settings)


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
    form = PAGE.form(request, db, number, settings, csrf_token)
    chosen = {}
    for choice in certificate:
        position, _, chosen_number = choice.partition(" ")
        if position.isdigit() and chosen_number:
            chosen[int(position)] = chosen_number
    wallet = wallet_evidence.WalletAccess(keys=keys, settings=settings, chosen=chosen)
    return form.post(
        lambda: applying.consent_and_fetch(
            db,
            actor=form.actor,
            number=number,
            settings=settings.services,
            catalogue=worker_state(request.app.state).catalogue,
            wallet=wallet,
        ),
        then=application_url(number) + "#form-title",
    )


@router.post("/me/applications/{number}/materials/{position}/decline")
def decline(
    request: Request, db: DB, number: str, position: int, settings: AppSettings, csrf_token: Token = ""
) -> Response:
    form = PAGE.form(request, db, number, settings, csrf_token)
    return form.post(
        lambda: applying.decline_consent(db, actor=form.actor, number=number, position=position),
        then=application_url(number) + "#uploads-title",
    )


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
    form = PAGE.form(request, db, number, settings, csrf_token)
    return form.upload(
        file,
        lambda filename, content: uploads.attach_upload(
            db,
            actor=form.actor,
            number=number,
            position=position,
            filename=filename,
            content=content,
            settings=settings,
        ),
        then=application_url(number) + "#uploads-title",
    )


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
    form = PAGE.form(request, db, number, settings, csrf_token)
    return form.post(
        lambda: applying.submit_application(
            db,
            actor=form.actor,
            number=number,
            keys=keys,
            settings=settings,
            pledge=pledge == "yes",
            human_review=human_review == "yes",
        ),
        then=application_url(number),
    )


@router.post("/me/applications/{number}/withdraw")
def withdraw(
    request: Request, db: DB, number: str, settings: AppSettings, csrf_token: Token = ""
) -> Response:
    form = PAGE.form(request, db, number, settings, csrf_token)
    return form.post(
        lambda: applying.withdraw_application(db, actor=form.actor, number=number),
        then=application_url(number),
    )
