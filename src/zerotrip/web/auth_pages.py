"""Signing in and out: the citizen and staff login forms, the TOTP step, logout and the language switch."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from typing import Annotated, Literal
from urllib.parse import urlencode

from cryptography.fernet import Fernet
from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from zerotrip.config import Settings
from zerotrip.db import transaction
from zerotrip.deps import SESSION_COOKIE, get_db, get_settings, resolve_caller
from zerotrip.identity import auth
from zerotrip.identity.errors import SecondFactorFailed
from zerotrip.keys import KeyStore
from zerotrip.problems import NotFound, Problem
from zerotrip.web import csrf
from zerotrip.web.i18n import LANG_COOKIE, N_, language_for_tag
from zerotrip.web.render import get_renderer, redirect, safe_next

router = APIRouter(include_in_schema=False)
DB = Annotated[Session, Depends(get_db)]
AppSettings = Annotated[Settings, Depends(get_settings)]
NextQuery = Annotated[str, Query(alias="next")]
NextForm = Annotated[str, Form(alias="next")]
TextForm = Annotated[str, Form()]

MISSING_CREDENTIALS = N_("Enter your login name and password.")
MISSING_CODE = N_("Enter the 6-digit code from your authenticator app.")
_RESIDENT_ID = re.compile(r"^\d{17}[\dxX]$")


@dataclass(frozen=True)
class Portal:
    kind: Literal["citizen", "staff"]
    template: str
    login_path: str
    home_path: str


CITIZEN = Portal(kind="citizen", template="login.html", login_path="/login", home_path="/me")
STAFF = Portal(kind="staff", template="staff_login.html", login_path="/staff/login", home_path="/staff")


def totp_fernet(keys: KeyStore) -> Fernet:
    """TOTP secrets are stored encrypted with the deployment's ``totp`` secret."""
    return Fernet(base64.urlsafe_b64encode(keys.secret("totp")))


def normalise_login_name(value: str) -> str:
    value = value.strip()
    # A resident ID's check character may be typed as a lower-case x; the registry stores it upper-case.
    return value.upper() if _RESIDENT_ID.match(value) else value


def login_page(
    request: Request,
    portal: Portal,
    *,
    next_path: str,
    login_name: str = "",
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """The login form with a pre-session CSRF token (made, and set as a cookie, when the visitor has none)."""
    token, is_new = csrf.pre_session_token(request)
    response = get_renderer(request).render(
        request,
        portal.template,
        caller=None,
        status_code=status_code,
        csrf_token=token,
        next=safe_next(next_path, portal.home_path),
        login_name=login_name,
        error=error,
    )
    if is_new:
        csrf.set_pre_session_cookie(request, response, token)
    return response


def sign_in(
    request: Request,
    db: Session,
    settings: Settings,
    portal: Portal,
    *,
    login_name: str,
    password: str,
    csrf_token: str,
    next_path: str,
) -> Response:
    csrf.check_pre_session(request, csrf_token)
    login_name = normalise_login_name(login_name)
    destination = safe_next(next_path, portal.home_path)
    if not login_name or not password:
        return login_page(
            request,
            portal,
            next_path=destination,
            login_name=login_name,
            error=MISSING_CREDENTIALS,
            status_code=422,
        )
    previous = request.cookies.get(SESSION_COOKIE)
    with transaction(db):
        outcome = auth.attempt_login(
            db,
            login_name=login_name,
            password=password,
            client_address=request.client.host if request.client else "unknown",
            portal=portal.kind,
            settings=settings.identity,
        )
        if outcome.token is not None and previous:
            auth.logout(db, token=previous)  # signing in as someone else ends the old session
    # Committed first: failed attempts and lockouts are stored even though the visitor is refused.
    try:
        outcome.raise_for_failure()
    except Problem as problem:
        return login_page(
            request,
            portal,
            next_path=destination,
            login_name=login_name,
            error=problem.title,
            status_code=problem.status,
        )
    assert outcome.token is not None
    if outcome.status == "second_factor":
        response: Response = redirect(f"/login/verify?{urlencode({'next': destination})}")
    else:
        response = redirect(destination)
    csrf.set_session_cookie(request, response, outcome.token)
    return response


@router.get("/login")
def citizen_login_form(request: Request, next_path: NextQuery = "") -> HTMLResponse:
    return login_page(request, CITIZEN, next_path=next_path)


@router.post("/login")
def citizen_login(
    request: Request,
    db: DB,
    settings: AppSettings,
    login_name: TextForm = "",
    password: TextForm = "",
    csrf_token: TextForm = "",
    next_path: NextForm = "",
) -> Response:
    return sign_in(
        request,
        db,
        settings,
        CITIZEN,
        login_name=login_name,
        password=password,
        csrf_token=csrf_token,
        next_path=next_path,
    )


@router.get("/staff/login")
def staff_login_form(request: Request, next_path: NextQuery = "") -> HTMLResponse:
    return login_page(request, STAFF, next_path=next_path)


@router.post("/staff/login")
def staff_login(
    request: Request,
    db: DB,
    settings: AppSettings,
    login_name: TextForm = "",
    password: TextForm = "",
    csrf_token: TextForm = "",
    next_path: NextForm = "",
) -> Response:
    return sign_in(
        request,
        db,
        settings,
        STAFF,
        login_name=login_name,
        password=password,
        csrf_token=csrf_token,
        next_path=next_path,
    )


@router.get("/login/verify")
def second_factor_form(request: Request, db: DB, next_path: NextQuery = "") -> Response:
    with transaction(db):
        caller = resolve_caller(request, db)
    if not caller.is_second_factor_pending:
        return redirect(STAFF.login_path)
    return get_renderer(request).render(
        request,
        "second_factor.html",
        caller=caller,
        csrf_token=caller.csrf_token,
        next=safe_next(next_path, STAFF.home_path),
        error=None,
    )


@router.post("/login/verify")
def second_factor(
    request: Request,
    db: DB,
    settings: AppSettings,
    code: TextForm = "",
    csrf_token: TextForm = "",
    next_path: NextForm = "",
) -> Response:
    with transaction(db):
        caller = resolve_caller(request, db)
    if not caller.is_second_factor_pending or caller.session_token is None:
        return redirect(STAFF.login_path)
    csrf.check_token(caller.csrf_token, csrf_token)
    destination = safe_next(next_path, STAFF.home_path)
    if not code.strip():
        return get_renderer(request).render(
            request,
            "second_factor.html",
            caller=caller,
            status_code=422,
            csrf_token=caller.csrf_token,
            next=destination,
            error=MISSING_CODE,
        )
    try:
        with transaction(db):
            auth.complete_second_factor(
                db,
                token=caller.session_token,
                code=code,
                fernet=totp_fernet(request.app.state.keys),
                settings=settings.identity,
            )
    except SecondFactorFailed as problem:
        # One guess per password: a wrong code ends the half-open session, so codes cannot be brute-forced
        # without also passing the password check (and its lockout and rate limit) again.
        with transaction(db):
            auth.logout(db, token=caller.session_token)
        response = login_page(
            request, STAFF, next_path=destination, error=problem.title, status_code=problem.status
        )
        csrf.clear_session_cookie(request, response)
        return response
    return redirect(destination)


@router.post("/logout")
def logout(request: Request, db: DB, csrf_token: TextForm = "") -> Response:
    with transaction(db):
        caller = resolve_caller(request, db)
        if caller.session_token is not None:
            csrf.check_token(caller.csrf_token, csrf_token)
            auth.logout(db, token=caller.session_token)
    response = redirect("/")
    csrf.clear_session_cookie(request, response)
    return response


@router.get("/lang/{tag}")
def switch_language(request: Request, tag: str, next_path: NextQuery = "") -> Response:
    language = language_for_tag(tag)
    if language is None:
        raise NotFound(N_("This language is not offered."))
    response = redirect(safe_next(next_path, "/"))
    response.set_cookie(
        LANG_COOKIE,
        language.tag,
        max_age=60 * 60 * 24 * 365,
        path="/",
        secure=csrf.is_https(request),
        httponly=True,
        samesite="lax",
    )
    return response
