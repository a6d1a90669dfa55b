"""The bundle pages (一件事): the guide's bundles and one bundle's guide for everyone; applying to a bundle
(one preview and consent for all parts, the one form, the uploads, the pledges and submission) and its one
status for the citizen who applied. Every form posts, then redirects to the bundle application (POST →
redirect → GET); a problem is shown on that page itself."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import Response

from zerotrip.config import Settings
from zerotrip.db import transaction
from zerotrip.deps import Caller, get_keys, get_settings, resolve_caller
from zerotrip.keys import KeyStore
from zerotrip.problems import Problem, ValidationFailed
from zerotrip.services import bundle_evidence, bundles, wallet_evidence
from zerotrip.services.applications import normalise_number
from zerotrip.services.errors import ApplicationClosed, EvidenceIncomplete, InvalidUpload
from zerotrip.services.models import LIFE_EVENTS
from zerotrip.web import csrf
from zerotrip.web import services_bundle_views as views
from zerotrip.web.auth_pages import CITIZEN
from zerotrip.web.datahub_text import ProblemView
from zerotrip.web.page_kit import DB, check_citizen, sign_in_first
from zerotrip.web.render import get_renderer, redirect
from zerotrip.web.services_apply_views import NO_FILE, message

router = APIRouter(include_in_schema=False)
AppSettings = Annotated[Settings, Depends(get_settings)]
Keys = Annotated[KeyStore, Depends(get_keys)]
Token = Annotated[str, Form()]
Flag = Annotated[str, Form()]
PageQuery = Annotated[int, Query(ge=1, le=100_000)]
Short = Annotated[str, Query(max_length=100)]
Upload = Annotated[UploadFile | None, File()]
# What a form on the bundle page may fail with and show on the page, instead of an error page.
SHOWN_ON_PAGE = (EvidenceIncomplete, InvalidUpload, ApplicationClosed, ValidationFailed)


def _url(number: str) -> str:
    return f"/me/bundles/{normalise_number(number)}"


# -- the guide --------------------------------------------------------------------------------------------


@router.get("/services/bundles")
def bundle_list(request: Request, db: DB, event: Short = "") -> Response:
    with transaction(db):
        caller = resolve_caller(request, db)
        rows = views.bundle_rows(db, life_event=event if event in LIFE_EVENTS else None)
    return get_renderer(request).render(
        request, "services/bundles.html", caller=caller, rows=rows, is_filtered=event in LIFE_EVENTS
    )


@router.get("/services/bundles/{code}")
def bundle(request: Request, db: DB, code: str) -> Response:
    with transaction(db):
        caller = resolve_caller(request, db)
        view = views.bundle(db, code)
    return get_renderer(request).render(request, "services/bundle.html", caller=caller, view=view)


# -- applying ---------------------------------------------------------------------------------------------


def _page(
    request: Request,
    caller: Caller,
    view: views.BundleApplicationView,
    problem: ProblemView | None = None,
    status_code: int = 200,
) -> Response:
    template = "services/bundle_apply.html" if view.is_draft else "services/bundle_status.html"
    return get_renderer(request).render(
        request,
        template,
        caller=caller,
        status_code=status_code,
        view=view,
        csrf_token=caller.csrf_token,
        problem=problem,
    )


def _signed_in_citizen(request: Request, db: DB, csrf_token: str) -> Caller:
    with transaction(db):
        caller = resolve_caller(request, db)
        csrf.check_token(caller.csrf_token, csrf_token)
        check_citizen(caller.actor)
    return caller


def _shown(
    request: Request, db: DB, caller: Caller, number: str, settings: Settings, problem: Problem
) -> Response:
    with transaction(db):
        view = views.bundle_application(db, caller.actor, number, settings.services)
    return _page(request, caller, view, views.problem(problem, view), problem.status)


@router.post("/services/bundles/{code}/apply")
def start(request: Request, db: DB, code: str, csrf_token: Token = "") -> Response:
    """在线办理 for the whole bundle: a draft of every part (the open draft of the bundle is resumed)."""
    caller = _signed_in_citizen(request, db, csrf_token)
    with transaction(db):
        number = bundles.start_bundle_application(db, actor=caller.actor, bundle_code=code).number
    return redirect(_url(number))


@router.get("/me/bundles")
def my_bundles(request: Request, db: DB, page: PageQuery = 1) -> Response:
    with transaction(db):
        caller = resolve_caller(request, db)
        if not caller.actor.is_authenticated:
            return sign_in_first(request, CITIZEN)
        check_citizen(caller.actor)
        view = views.my_bundle_applications(db, caller.actor, page=page)
    return get_renderer(request).render(request, "services/bundle_list.html", caller=caller, view=view)


@router.get("/me/bundles/{number}")
def bundle_application(request: Request, db: DB, number: str, settings: AppSettings) -> Response:
    with transaction(db):
        caller = resolve_caller(request, db)
        if not caller.actor.is_authenticated:
            return sign_in_first(request, CITIZEN)
        check_citizen(caller.actor)
        view = views.bundle_application(db, caller.actor, number, settings.services)
    return _page(request, caller, view)


@router.post("/me/bundles/{number}/consent")
def consent(
    request: Request, db: DB, number: str, settings: AppSettings, keys: Keys, csrf_token: Token = ""
) -> Response:
    caller = _signed_in_citizen(request, db, csrf_token)
    wallet = wallet_evidence.WalletAccess(keys=keys, settings=settings)
    try:
        with transaction(db):
            bundle_evidence.consent_bundle(
                db, actor=caller.actor, number=number, settings=settings.services, wallet=wallet
            )
    except SHOWN_ON_PAGE as problem:
        return _shown(request, db, caller, number, settings, problem)
    return redirect(_url(number) + "#form-title")


@router.post("/me/bundles/{number}/sources/{position}/decline")
def decline(
    request: Request, db: DB, number: str, position: int, settings: AppSettings, csrf_token: Token = ""
) -> Response:
    caller = _signed_in_citizen(request, db, csrf_token)
    try:
        with transaction(db):
            bundle_evidence.decline_bundle_source(db, actor=caller.actor, number=number, position=position)
    except SHOWN_ON_PAGE as problem:
        return _shown(request, db, caller, number, settings, problem)
    return redirect(_url(number) + "#uploads-title")


@router.post("/me/bundles/{number}/sources/{position}/choose")
def choose(
    request: Request,
    db: DB,
    number: str,
    position: int,
    settings: AppSettings,
    csrf_token: Token = "",
    record: Flag = "",
) -> Response:
    """Which record of several (one child of several births) the application is about."""
    caller = _signed_in_citizen(request, db, csrf_token)
    try:
        if not record.isdigit():
            raise ValidationFailed.field("record", "choose one of the records listed")
        with transaction(db):
            bundle_evidence.choose_bundle_record(
                db, actor=caller.actor, number=number, position=position, record=int(record)
            )
    except SHOWN_ON_PAGE as problem:
        return _shown(request, db, caller, number, settings, problem)
    return redirect(_url(number) + "#form-title")


@router.post("/me/bundles/{number}/parts/{part}/materials/{position}/decline")
def decline_certificate(
    request: Request,
    db: DB,
    number: str,
    part: int,
    position: int,
    settings: AppSettings,
    csrf_token: Token = "",
) -> Response:
    """Do not use a certificate from the wallet for a part's e-certificate material; upload it instead."""
    caller = _signed_in_citizen(request, db, csrf_token)
    try:
        with transaction(db):
            bundle_evidence.decline_part_certificate(
                db, actor=caller.actor, number=number, part=part, position=position
            )
    except SHOWN_ON_PAGE as problem:
        return _shown(request, db, caller, number, settings, problem)
    return redirect(_url(number) + "#uploads-title")


def _upload(
    request: Request,
    db: DB,
    number: str,
    settings: Settings,
    file: UploadFile | None,
    csrf_token: str,
    *,
    source: int | None = None,
    part: int | None = None,
    position: int | None = None,
) -> Response:
    caller = _signed_in_citizen(request, db, csrf_token)
    if file is None or not file.filename:
        with transaction(db):
            view = views.bundle_application(db, caller.actor, number, settings.services)
        return _page(request, caller, view, message(NO_FILE), 422)
    limit = settings.services.upload_max_bytes
    content = file.file.read(limit + 1)
    try:
        if len(content) > limit:
            raise InvalidUpload.field("file", f"the file is larger than {limit} bytes")
        with transaction(db):
            if source is not None:
                bundle_evidence.upload_for_source(
                    db,
                    actor=caller.actor,
                    number=number,
                    position=source,
                    filename=file.filename,
                    content=content,
                    settings=settings,
                )
            else:
                assert part is not None and position is not None
                bundle_evidence.upload_for_part(
                    db,
                    actor=caller.actor,
                    number=number,
                    part=part,
                    position=position,
                    filename=file.filename,
                    content=content,
                    settings=settings,
                )
    except SHOWN_ON_PAGE as problem:
        return _shown(request, db, caller, number, settings, problem)
    return redirect(_url(number) + "#uploads-title")


@router.post("/me/bundles/{number}/sources/{position}/upload")
def upload_source(
    request: Request,
    db: DB,
    number: str,
    position: int,
    settings: AppSettings,
    file: Upload = None,
    csrf_token: Token = "",
) -> Response:
    return _upload(request, db, number, settings, file, csrf_token, source=position)


@router.post("/me/bundles/{number}/parts/{part}/materials/{position}/upload")
def upload_part(
    request: Request,
    db: DB,
    number: str,
    part: int,
    position: int,
    settings: AppSettings,
    file: Upload = None,
    csrf_token: Token = "",
) -> Response:
    return _upload(request, db, number, settings, file, csrf_token, part=part, position=position)


@router.post("/me/bundles/{number}/submit")
def submit(
    request: Request,
    db: DB,
    number: str,
    settings: AppSettings,
    keys: Keys,
    csrf_token: Token = "",
    pledge: Flag = "",
) -> Response:
    caller = _signed_in_citizen(request, db, csrf_token)
    try:
        with transaction(db):
            bundles.submit_bundle(
                db, actor=caller.actor, number=number, keys=keys, settings=settings, pledge=pledge == "yes"
            )
    except SHOWN_ON_PAGE as problem:
        return _shown(request, db, caller, number, settings, problem)
    return redirect(_url(number))


@router.post("/me/bundles/{number}/withdraw")
def withdraw(
    request: Request, db: DB, number: str, settings: AppSettings, csrf_token: Token = ""
) -> Response:
    caller = _signed_in_citizen(request, db, csrf_token)
    try:
        with transaction(db):
            bundles.withdraw_bundle(db, actor=caller.actor, number=number)
    except SHOWN_ON_PAGE as problem:
        return _shown(request, db, caller, number, settings, problem)
    return redirect(_url(number))
