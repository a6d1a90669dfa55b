"""The holder's pages (卡包): the wallet, one certificate, showing it (亮证), and asking for one's own
no-real-estate proof.

Showing is a GET: the holder ticks fields and the form asks for the same page with them; each load signs a
fresh short-lived presentation (audited by the wallet with the fields' names), so "refresh" is a reload.
Nothing secret is in the URL, only which fields to show.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from zerotrip.certificates.errors import CertificateExpired, CertificateRevoked, CertificateSuspended
from zerotrip.common import clock
from zerotrip.config import Settings
from zerotrip.db import transaction
from zerotrip.deps import Caller, get_keys, get_settings, resolve_caller
from zerotrip.keys import KeyStore
from zerotrip.problems import ValidationFailed
from zerotrip.web import certificates_wallet_views as views
from zerotrip.web import csrf
from zerotrip.web.auth_pages import CITIZEN
from zerotrip.web.certificates_text import problem_view
from zerotrip.web.datahub_text import ProblemView, message_view
from zerotrip.web.i18n import N_
from zerotrip.web.page_kit import DB, check_citizen, sign_in_first
from zerotrip.web.render import get_renderer, redirect

router = APIRouter(include_in_schema=False)
AppSettings = Annotated[Settings, Depends(get_settings)]
Keys = Annotated[KeyStore, Depends(get_keys)]
PageQuery = Annotated[int, Query(ge=1, le=100_000)]
ShortQuery = Annotated[str, Query(max_length=40)]
FieldsQuery = Annotated[list[str], Query(alias="field", max_length=64)]
CHOOSE_A_FIELD = N_("Choose at least one field to show.")
MAX_VALUE = 2000


@router.get("/me/certificates")
def wallet(request: Request, db: DB, page: PageQuery = 1, done: ShortQuery = "") -> Response:
    with transaction(db):
        caller = resolve_caller(request, db)
        if not caller.actor.is_authenticated:
            return sign_in_first(request, CITIZEN)
        view = views.wallet_page(db, caller.actor, page=page, now=clock.now())
    return get_renderer(request).render(
        request,
        "certificates/wallet.html",
        caller=caller,
        csrf_token=caller.csrf_token,
        view=view,
        done_notices=views.wallet_notice(done),
        problem=None,
    )


@router.post("/me/certificates/no-real-estate-proof")
def ask_for_proof(
    request: Request, db: DB, keys: Keys, settings: AppSettings, csrf_token: Annotated[str, Form()] = ""
) -> Response:
    with transaction(db):
        caller = resolve_caller(request, db)
        csrf.check_token(caller.csrf_token, csrf_token)
        check_citizen(caller.actor)
        outcome = views.ask_for_proof(db, caller.actor, keys=keys, settings=settings)
        number = outcome.certificate.number if outcome.certificate is not None else None
    # Committed: the register was asked, and the read is in the citizen's data-use log either way.
    if number is not None:
        return redirect(f"/me/certificates/{number}?done=proof")
    with transaction(db):
        view = views.wallet_page(db, caller.actor, page=1, now=clock.now())
    return get_renderer(request).render(
        request,
        "certificates/wallet.html",
        caller=caller,
        status_code=409,
        csrf_token=caller.csrf_token,
        view=view,
        done_notices=(),
        problem=message_view(views.HOLDS_REAL_ESTATE),
    )


@router.get("/me/certificates/{number}")
def held_certificate(request: Request, db: DB, number: str, done: ShortQuery = "") -> Response:
    with transaction(db):
        caller = resolve_caller(request, db)
        if not caller.actor.is_authenticated:
            return sign_in_first(request, CITIZEN)
        view = views.held_certificate(db, caller.actor, number, now=clock.now())
    return get_renderer(request).render(
        request,
        "certificates/held.html",
        caller=caller,
        view=view,
        done_notices=views.wallet_notice(done),
    )


@router.get("/me/certificates/{number}/pdf")
def download_pdf(request: Request, db: DB, number: str, settings: AppSettings) -> Response:
    with transaction(db):
        caller = resolve_caller(request, db)
        if not caller.actor.is_authenticated:
            return sign_in_first(request, CITIZEN)
        check_citizen(caller.actor)
        file = views.certificate_pdf(db, caller.actor, number, settings=settings, now=clock.now())
    disposition = f"attachment; filename=\"{file.ascii_filename}\"; filename*=UTF-8''{quote(file.filename)}"
    return Response(
        file.content,
        media_type="application/pdf",
        headers={"Content-Disposition": disposition, "Cache-Control": "no-store"},
    )


@router.get("/me/certificates/{number}/show")
def show(
    request: Request,
    db: DB,
    number: str,
    keys: Keys,
    settings: AppSettings,
    fields: FieldsQuery = [],  # noqa: B006 (FastAPI copies query defaults)
    chosen: Annotated[str, Query(max_length=1)] = "",
) -> Response:
    """Without ``chosen`` the form opens with the default fields ticked; with it, the ticked fields are
    shown as a fresh QR code."""
    now = clock.now()
    code = None
    problem = None
    status_code = 200
    with transaction(db):
        caller = resolve_caller(request, db)
        if not caller.actor.is_authenticated:
            return sign_in_first(request, CITIZEN)
        held, choices = views.field_choices(
            db, caller.actor, number, now=now, chosen=fields if chosen else None
        )
        if chosen and not fields:
            problem, status_code = message_view(CHOOSE_A_FIELD), 422
        elif chosen:
            try:
                code = views.present(
                    db,
                    caller.actor,
                    number,
                    fields=fields,
                    keys=keys,
                    settings=settings,
                    now=now,
                )
            except (ValidationFailed, CertificateRevoked, CertificateSuspended, CertificateExpired) as failed:
                problem, status_code = problem_view(failed), failed.status
    return get_renderer(request).render(
        request,
        "certificates/show.html",
        caller=caller,
        status_code=status_code,
        view=held,
        choices=choices,
        code=code,
        problem=problem,
        refresh_url=str(request.url.path) + ("?" + request.url.query if request.url.query else ""),
    )


# -- use grants (用证授权) -----------------------------------------------------------------------------------


def _grants_page(
    request: Request,
    caller: Caller,
    view: views.GrantsView,
    *,
    created: views.CreatedGrant | None = None,
    problem: ProblemView | None = None,
    done: str = "",
    status_code: int = 200,
) -> Response:
    return get_renderer(request).render(
        request,
        "certificates/grants.html",
        caller=caller,
        status_code=status_code,
        csrf_token=caller.csrf_token,
        view=view,
        created=created,
        problem=problem,
        done_notices=views.grant_notice(done),
    )


@router.get("/me/certificates/{number}/grants")
def grants_page(
    request: Request, db: DB, number: str, settings: AppSettings, done: ShortQuery = ""
) -> Response:
    with transaction(db):
        caller = resolve_caller(request, db)
        if not caller.actor.is_authenticated:
            return sign_in_first(request, CITIZEN)
        view = views.grants_page(db, caller.actor, number, settings=settings, now=clock.now())
    return _grants_page(request, caller, view, done=done)


@router.post("/me/certificates/{number}/grants")
async def create_grant(request: Request, db: DB, number: str, settings: AppSettings) -> Response:
    """The code is shown in answer to this POST, once: it must not travel in a URL, and only its hash is
    stored."""
    form = await request.form()
    values = {k: v[:MAX_VALUE] for k, v in form.items() if isinstance(v, str) and k != "field"}
    fields = [v for v in form.getlist("field") if isinstance(v, str)][:64]
    return await run_in_threadpool(_create_grant, request, db, number, settings, values, fields)


def _create_grant(
    request: Request, db: Session, number: str, settings: Settings, values: dict[str, str], fields: list[str]
) -> Response:
    now = clock.now()
    with transaction(db):
        caller = resolve_caller(request, db)
        csrf.check_token(caller.csrf_token, values.get("csrf_token", ""))
        check_citizen(caller.actor)
    try:
        with transaction(db):
            created = views.create_grant(
                db, caller.actor, number, values=values, fields=fields, settings=settings, now=now
            )
    except (ValidationFailed, CertificateRevoked, CertificateSuspended, CertificateExpired) as failed:
        with transaction(db):
            view = views.grants_page(
                db, caller.actor, number, settings=settings, now=now, values=values, chosen=fields
            )
        problem = problem_view(failed, labels=views.GRANT_LABELS)
        return _grants_page(request, caller, view, problem=problem, status_code=failed.status)
    with transaction(db):
        view = views.grants_page(db, caller.actor, number, settings=settings, now=now)
    return _grants_page(request, caller, view, created=created)


@router.post("/me/certificates/{number}/grants/{grant_id}/withdraw")
def withdraw_grant(
    request: Request, db: DB, number: str, grant_id: int, csrf_token: Annotated[str, Form()] = ""
) -> Response:
    with transaction(db):
        caller = resolve_caller(request, db)
        csrf.check_token(caller.csrf_token, csrf_token)
        views.withdraw_grant(db, caller.actor, grant_id, now=clock.now())
    return redirect(f"/me/certificates/{number}/grants?done=withdrawn")
