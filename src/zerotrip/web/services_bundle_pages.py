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
from zerotrip.problems import ValidationFailed
from zerotrip.services import bundle_evidence, bundles, wallet_evidence
from zerotrip.services.applications import normalise_number
from zerotrip.services.errors import ApplicationClosed, EvidenceIncomplete, InvalidUpload
from zerotrip.services.models import LIFE_EVENTS
from zerotrip.web import services_bundle_views as views
from zerotrip.web.datahub_text import ProblemView
from zerotrip.web.page_kit import DB
from zerotrip.web.render import get_renderer, redirect
from zerotrip.web.services_forms import ApplicantPage, citizen_list, render_page, signed_in_citizen

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
    return render_page(request, caller, template, view, problem, status_code)


PAGE = ApplicantPage(view=views.bundle_application, render=_page, problem=views.problem, shown=SHOWN_ON_PAGE)


@router.post("/services/bundles/{code}/apply")
def start(request: Request, db: DB, code: str, csrf_token: Token = "") -> Response:
    """在线办理 for the whole bundle: a draft of every part (the open draft of the bundle is resumed)."""
    caller = signed_in_citizen(request, db, csrf_token)
    with transaction(db):
        number = bundles.start_bundle_application(db, actor=caller.actor, bundle_code=code).number
    return redirect(_url(number))


@router.get("/me/bundles")
def my_bundles(request: Request, db: DB, page: PageQuery = 1) -> Response:
    return citizen_list(
        request,
        db,
        "services/bundle_list.html",
        lambda db, actor: views.my_bundle_applications(db, actor, page=page),
    )


@router.get("/me/bundles/{number}")
def bundle_application(request: Request, db: DB, number: str, settings: AppSettings) -> Response:
    return PAGE.open(request, db, number, settings)


@router.post("/me/bundles/{number}/consent")
def consent(
    request: Request, db: DB, number: str, settings: AppSettings, keys: Keys, csrf_token: Token = ""
) -> Response:
    form = PAGE.form(request, db, number, settings, csrf_token)
    wallet = wallet_evidence.WalletAccess(keys=keys, settings=settings)
    return form.post(
        lambda: bundle_evidence.consent_bundle(
            db, actor=form.actor, number=number, settings=settings.services, wallet=wallet
        ),
        then=_url(number) + "#form-title",
    )


@router.post("/me/bundles/{number}/sources/{position}/decline")
def decline(
    request: Request, db: DB, number: str, position: int, settings: AppSettings, csrf_token: Token = ""
) -> Response:
    form = PAGE.form(request, db, number, settings, csrf_token)
    return form.post(
        lambda: bundle_evidence.decline_bundle_source(db, actor=form.actor, number=number, position=position),
        then=_url(number) + "#uploads-title",
    )


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
    form = PAGE.form(request, db, number, settings, csrf_token)
    if not record.isdigit():
        return form.show_problem(ValidationFailed.field("record", "choose one of the records listed"))
    return form.post(
        lambda: bundle_evidence.choose_bundle_record(
            db, actor=form.actor, number=number, position=position, record=int(record)
        ),
        then=_url(number) + "#form-title",
    )


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
    form = PAGE.form(request, db, number, settings, csrf_token)
    return form.post(
        lambda: bundle_evidence.decline_part_certificate(
            db, actor=form.actor, number=number, part=part, position=position
        ),
        then=_url(number) + "#uploads-title",
    )


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
    form = PAGE.form(request, db, number, settings, csrf_token)

    def store(filename: str, content: bytes) -> None:
        if source is not None:
            bundle_evidence.upload_for_source(
                db,
                actor=form.actor,
                number=number,
                position=source,
                filename=filename,
                content=content,
                settings=settings,
            )
        else:
            assert part is not None and position is not None
            bundle_evidence.upload_for_part(
                db,
                actor=form.actor,
                number=number,
                part=part,
                position=position,
                filename=filename,
                content=content,
                settings=settings,
            )

    return form.upload(file, store, then=_url(number) + "#uploads-title")


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
    form = PAGE.form(request, db, number, settings, csrf_token)
    return form.post(
        lambda: bundles.submit_bundle(
            db, actor=form.actor, number=number, keys=keys, settings=settings, pledge=pledge == "yes"
        ),
        then=_url(number),
    )


@router.post("/me/bundles/{number}/withdraw")
def withdraw(
    request: Request, db: DB, number: str, settings: AppSettings, csrf_token: Token = ""
) -> Response:
    form = PAGE.form(request, db, number, settings, csrf_token)
    return form.post(
        lambda: bundles.withdraw_bundle(db, actor=form.actor, number=number),
        then=_url(number),
    )
