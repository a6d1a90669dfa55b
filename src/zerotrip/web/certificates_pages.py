"""The certificates pages for the public and for issuers.

``/verify`` (public, 证照核验): paste a token or the text of a QR code, upload a certificate's PDF, or open
``/verify#<token>`` (what a certificate QR holds; a few lines of script move the fragment, which never
reaches the server, into the form). The verdict is rendered in answer to the POST rather than redirected to:
what was verified must not travel in a URL, and the action audits each verification once.

``/staff/certificates`` (证照签发, certificate issuers): search what the staff member's departments issued,
issue a certificate of a type they issue, issue a no-real-estate proof from the register, and suspend,
reinstate or revoke with a reason.
"""

from __future__ import annotations

import threading
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from zerotrip.certificates import pdf
from zerotrip.certificates.errors import CertificateRevoked, CertificateStatusConflict, IssuingNotAllowed
from zerotrip.certificates.queries import PublishedCache
from zerotrip.common import clock
from zerotrip.config import Settings
from zerotrip.db import transaction
from zerotrip.deps import Caller, get_keys, get_settings, resolve_caller
from zerotrip.keys import KeyStore
from zerotrip.problems import ValidationFailed
from zerotrip.web import certificates_views as views
from zerotrip.web import csrf
from zerotrip.web.auth_pages import STAFF
from zerotrip.web.certificates_text import problem_view
from zerotrip.web.datahub_text import ProblemView, message_view
from zerotrip.web.i18n import N_
from zerotrip.web.page_kit import DB, NavLink, sign_in_first
from zerotrip.web.render import get_renderer, redirect

router = APIRouter(include_in_schema=False)
AppSettings = Annotated[Settings, Depends(get_settings)]
Keys = Annotated[KeyStore, Depends(get_keys)]
PageQuery = Annotated[int, Query(ge=1, le=100_000)]
ShortQuery = Annotated[str, Query(max_length=100)]
MAX_TOKEN = 200_000  # characters: the API's limit
MAX_VALUE = 4000
MAX_PDF = 5 * 1024 * 1024
NOT_A_PDF = N_("This file is not a certificate PDF from this platform, or it carries no certificate.")
NOTHING_TO_VERIFY = N_("Paste the text of a certificate or its QR code, or choose its PDF.")
STATUS_LABELS_FORM = {"reason": N_("Reason"), "action": N_("Change")}


_cache_lock = threading.Lock()


def published_cache(request: Request) -> PublishedCache:
    """The application's cache of the trust list and status lists (one per worker process), kept on the
    application as ``certificates_cache`` where the certificates API keeps it too."""
    with _cache_lock:
        cache: PublishedCache | None = getattr(request.app.state, "certificates_cache", None)
        if cache is None:
            cache = PublishedCache()
            request.app.state.certificates_cache = cache
        return cache


async def form_values(request: Request) -> dict[str, str]:
    """The submitted form's text fields (the claim fields' names depend on the type), cut to size."""
    form = await request.form()
    return {name: value[:MAX_VALUE] for name, value in form.items() if isinstance(value, str)}


FormValues = Annotated[dict[str, str], Depends(form_values)]


# -- the public verify page --------------------------------------------------------------------------------


def _verify_page(
    request: Request,
    caller: Caller,
    *,
    verdict: views.VerdictView | None = None,
    problem: ProblemView | None = None,
    status_code: int = 200,
) -> Response:
    # A signed-in visitor's form carries the session's token; anyone else's the pre-session one.
    token, is_new = (caller.csrf_token, False) if caller.csrf_token else csrf.pre_session_token(request)
    response = get_renderer(request).render(
        request,
        "certificates/verify.html",
        caller=caller,
        status_code=status_code,
        csrf_token=token,
        verdict=verdict,
        problem=problem,
    )
    if is_new:
        csrf.set_pre_session_cookie(request, response, token)
    return response


def _check_verify_form(request: Request, caller: Caller, submitted: str) -> None:
    if caller.csrf_token:
        csrf.check_token(caller.csrf_token, submitted)
    else:
        csrf.check_pre_session(request, submitted)


@router.get("/verify")
def verify_form(request: Request, db: DB) -> Response:
    with transaction(db):
        caller = resolve_caller(request, db)
    return _verify_page(request, caller)


@router.post("/verify")
def verify_token(
    request: Request,
    db: DB,
    keys: Keys,
    settings: AppSettings,
    token: Annotated[str, Form(max_length=MAX_TOKEN)] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    with transaction(db):
        caller = resolve_caller(request, db)
        _check_verify_form(request, caller, csrf_token)
        if not token.strip():
            return _verify_page(request, caller, problem=message_view(NOTHING_TO_VERIFY), status_code=422)
        verdict = views.verify(
            db,
            caller.actor,
            token=token,
            keys=keys,
            settings=settings,
            now=clock.now(),
            cache=published_cache(request),
        )
    return _verify_page(request, caller, verdict=verdict)


@router.post("/verify/pdf")
async def verify_pdf(
    request: Request,
    db: DB,
    keys: Keys,
    settings: AppSettings,
    file: Annotated[UploadFile | None, File()] = None,
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """Verify the certificate a PDF carries (the issued token is embedded in it)."""
    data = await file.read(MAX_PDF + 1) if file is not None and file.filename else b""
    return await run_in_threadpool(_verify_pdf, request, db, keys, settings, data, csrf_token)


def _verify_pdf(
    request: Request, db: Session, keys: KeyStore, settings: Settings, data: bytes, submitted: str
) -> Response:
    with transaction(db):
        caller = resolve_caller(request, db)
        _check_verify_form(request, caller, submitted)
        if not data:
            return _verify_page(request, caller, problem=message_view(NOTHING_TO_VERIFY), status_code=422)
        token = pdf.extract_token(data) if len(data) <= MAX_PDF else None
        if token is None:
            return _verify_page(request, caller, problem=message_view(NOT_A_PDF), status_code=422)
        verdict = views.verify(
            db,
            caller.actor,
            token=token,
            keys=keys,
            settings=settings,
            now=clock.now(),
            cache=published_cache(request),
        )
    return _verify_page(request, caller, verdict=verdict)


# -- the issuers' pages ------------------------------------------------------------------------------------


def issuer_links(current: str, *, may_issue_proof: bool) -> tuple[NavLink, ...]:
    links = [
        ("issued", "/staff/certificates", N_("Issued certificates")),
        ("new", "/staff/certificates/new", N_("Issue a certificate")),
    ]
    if may_issue_proof:
        links.append(("proof", "/staff/certificates/no-real-estate-proof", N_("No-real-estate proof")))
    return tuple(NavLink(url, label, key == current) for key, url, label in links)


def _staff_page(
    request: Request,
    caller: Caller,
    template: str,
    current: str,
    *,
    status_code: int = 200,
    **context: object,
) -> Response:
    return get_renderer(request).render(
        request,
        template,
        caller=caller,
        status_code=status_code,
        csrf_token=caller.csrf_token,
        links=issuer_links(current, may_issue_proof=bool(context.pop("may_issue_proof", False))),
        **context,
    )


@router.get("/staff/certificates")
def issued(
    request: Request,
    db: DB,
    type: ShortQuery = "",
    holder: ShortQuery = "",
    status: ShortQuery = "",
    number: ShortQuery = "",
    page: PageQuery = 1,
) -> Response:
    with transaction(db):
        caller = resolve_caller(request, db)
        if not caller.actor.is_authenticated:
            return sign_in_first(request, STAFF)
        problem = None
        try:
            view = views.search(
                db,
                caller.actor,
                certificate_type=type,
                holder=holder,
                status=status,
                number=number,
                page=page,
            )
        except ValidationFailed as failed:
            problem = problem_view(failed, labels={"holder": N_("Holder")})
            view = views.search(
                db, caller.actor, certificate_type=type, holder="", status=status, number=number, page=page
            )
        proof = views.may_issue_proof(db, caller.actor)
    return _staff_page(
        request,
        caller,
        "certificates/issued.html",
        "issued",
        status_code=422 if problem else 200,
        view=view,
        problem=problem,
        may_issue_proof=proof,
    )


@router.get("/staff/certificates/new")
def issuable(request: Request, db: DB) -> Response:
    with transaction(db):
        caller = resolve_caller(request, db)
        if not caller.actor.is_authenticated:
            return sign_in_first(request, STAFF)
        choices = views.issuable_types(db, caller.actor)
    proof = any(c.code == "no-real-estate" for c in choices)
    return _staff_page(
        request, caller, "certificates/issuable.html", "new", choices=choices, may_issue_proof=proof
    )


def _issue_page(
    request: Request,
    db: DB,
    caller: Caller,
    code: str,
    values: dict[str, str] | None = None,
    failed: ValidationFailed | None = None,
) -> Response:
    errors = (
        frozenset(e.get("pointer", "").removeprefix("#/") for e in failed.errors) if failed else frozenset()
    )
    form = views.issue_form(db, caller.actor, code, values, errors)
    problem = problem_view(failed, labels=views.form_labels(form)) if failed else None
    proof = views.may_issue_proof(db, caller.actor)
    return _staff_page(
        request,
        caller,
        "certificates/issue.html",
        "new",
        status_code=failed.status if failed else 200,
        form=form,
        problem=problem,
        may_issue_proof=proof,
    )


@router.get("/staff/certificates/new/{code}")
def issue_form(request: Request, db: DB, code: str) -> Response:
    with transaction(db):
        caller = resolve_caller(request, db)
        if not caller.actor.is_authenticated:
            return sign_in_first(request, STAFF)
        return _issue_page(request, db, caller, code)


@router.post("/staff/certificates/new/{code}")
def issue(
    request: Request, db: DB, code: str, keys: Keys, settings: AppSettings, values: FormValues
) -> Response:
    with transaction(db):
        caller = resolve_caller(request, db)
        csrf.check_token(caller.csrf_token, values.get("csrf_token", ""))
    try:
        with transaction(db):
            number = views.issue(db, caller.actor, code=code, values=values, keys=keys, settings=settings)
    except ValidationFailed as failed:
        # Nothing was stored: the transaction rolled back. The form comes back with its values.
        with transaction(db):
            return _issue_page(request, db, caller, code, values, failed)
    return redirect(f"/staff/certificates/{number}?done=issued")


def _proof_page(
    request: Request,
    db: DB,
    caller: Caller,
    *,
    resident_id: str = "",
    problem: ProblemView | None = None,
    status_code: int = 200,
) -> Response:
    if not views.may_issue_proof(db, caller.actor):
        raise IssuingNotAllowed(N_("No-real-estate proofs are issued by the natural resources department."))
    return _staff_page(
        request,
        caller,
        "certificates/proof.html",
        "proof",
        status_code=status_code,
        resident_id=resident_id,
        problem=problem,
        may_issue_proof=True,
    )


@router.get("/staff/certificates/no-real-estate-proof")
def proof_form(request: Request, db: DB) -> Response:
    with transaction(db):
        caller = resolve_caller(request, db)
        if not caller.actor.is_authenticated:
            return sign_in_first(request, STAFF)
        views.check_issuer(caller.actor)
        return _proof_page(request, db, caller)


@router.post("/staff/certificates/no-real-estate-proof")
def issue_proof(
    request: Request,
    db: DB,
    keys: Keys,
    settings: AppSettings,
    resident_id: Annotated[str, Form(max_length=40)] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    with transaction(db):
        caller = resolve_caller(request, db)
        csrf.check_token(caller.csrf_token, csrf_token)
        views.check_issuer(caller.actor)
    try:
        with transaction(db):
            outcome = views.issue_proof(
                db, caller.actor, resident_id=resident_id, keys=keys, settings=settings
            )
    except ValidationFailed as failed:
        with transaction(db):
            problem = problem_view(failed, labels={"resident_id": N_("Resident ID number")})
            return _proof_page(
                request, db, caller, resident_id=resident_id, problem=problem, status_code=failed.status
            )
    # Committed: the register was asked, and the read is in the person's data-use log either way.
    if outcome.certificate is None:
        with transaction(db):
            return _proof_page(
                request,
                db,
                caller,
                resident_id=resident_id,
                problem=message_view(views.HOLDS_REAL_ESTATE),
                status_code=409,
            )
    return redirect(f"/staff/certificates/{outcome.certificate.number}?done=issued")


def _certificate_page(
    request: Request,
    db: DB,
    caller: Caller,
    number: str,
    *,
    done: str | None = None,
    problem: ProblemView | None = None,
    reason: str = "",
    status_code: int = 200,
) -> Response:
    view = views.certificate_page(db, caller.actor, number)
    proof = views.may_issue_proof(db, caller.actor)
    return _staff_page(
        request,
        caller,
        "certificates/issued_certificate.html",
        "issued",
        status_code=status_code,
        view=view,
        done_notices=views.status_notice(done, view.number),
        problem=problem,
        reason=reason,
        may_issue_proof=proof,
    )


@router.get("/staff/certificates/{number}")
def issued_certificate(request: Request, db: DB, number: str, done: ShortQuery = "") -> Response:
    with transaction(db):
        caller = resolve_caller(request, db)
        if not caller.actor.is_authenticated:
            return sign_in_first(request, STAFF)
        return _certificate_page(request, db, caller, number, done=done)


@router.post("/staff/certificates/{number}/status")
def change_status(
    request: Request,
    db: DB,
    number: str,
    action: Annotated[str, Form(max_length=20)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    with transaction(db):
        caller = resolve_caller(request, db)
        csrf.check_token(caller.csrf_token, csrf_token)
    try:
        with transaction(db):
            changed = views.change_status(db, caller.actor, number=number, action=action, reason=reason)
    except (ValidationFailed, CertificateStatusConflict, CertificateRevoked) as failed:
        with transaction(db):
            problem = problem_view(failed, labels=STATUS_LABELS_FORM)
            return _certificate_page(
                request, db, caller, number, problem=problem, reason=reason, status_code=failed.status
            )
    return redirect(f"/staff/certificates/{changed}?done={action}")
