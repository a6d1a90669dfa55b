"""Home pages: the public one, the citizen's, the staff member's (later issues fill them in), TOTP set-up
for staff, and the health check."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import parse_qs, urlsplit

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from zerotrip.db import transaction
from zerotrip.deps import get_db, resolve_caller
from zerotrip.identity import auth
from zerotrip.problems import NotAllowed
from zerotrip.web import csrf, views
from zerotrip.web.auth_pages import CITIZEN, STAFF, totp_fernet
from zerotrip.web.i18n import N_
from zerotrip.web.render import get_renderer, redirect

log = logging.getLogger("zerotrip.web")
router = APIRouter(include_in_schema=False)
DB = Annotated[Session, Depends(get_db)]


@dataclass(frozen=True)
class TotpSetup:
    secret: str
    uri: str


@router.get("/")
def public_home(request: Request, db: DB) -> Response:
    with transaction(db):
        caller = resolve_caller(request, db)
    return get_renderer(request).render(request, "home.html", caller=caller)


@router.get("/me")
def citizen_home(request: Request, db: DB) -> Response:
    with transaction(db):
        caller = resolve_caller(request, db)
        if caller.actor.kind == "staff":
            return redirect(STAFF.home_path)
        if caller.actor.kind != "citizen":
            return redirect(f"{CITIZEN.login_path}?next={CITIZEN.home_path}")
        home = views.citizen_home(db, caller.actor)
    return get_renderer(request).render(request, "citizen_home.html", caller=caller, home=home)


@router.get("/staff")
def staff_home(request: Request, db: DB) -> Response:
    with transaction(db):
        caller = resolve_caller(request, db)
        if not caller.actor.is_authenticated:
            return redirect(f"{STAFF.login_path}?next={STAFF.home_path}")
        home = views.staff_home(db, caller.actor)
    return get_renderer(request).render(request, "staff_home.html", caller=caller, home=home)


@router.get("/staff/security")
def staff_security(request: Request, db: DB) -> Response:
    with transaction(db):
        caller = resolve_caller(request, db)
    if not caller.actor.is_authenticated:
        return redirect(f"{STAFF.login_path}?next=/staff/security")
    if caller.actor.kind != "staff":
        raise NotAllowed(N_("Two-step verification is for staff accounts."))
    return get_renderer(request).render(
        request, "staff_security.html", caller=caller, csrf_token=caller.csrf_token, totp=None
    )


@router.post("/staff/security/totp")
def enable_totp(request: Request, db: DB, csrf_token: Annotated[str, Form()] = "") -> Response:
    with transaction(db):
        caller = resolve_caller(request, db)
        csrf.check_token(caller.csrf_token, csrf_token)
        if caller.actor.kind != "staff" or caller.actor.account_id is None:
            raise NotAllowed(N_("Two-step verification is for staff accounts."))
        uri = auth.enable_totp(
            db,
            actor=caller.actor,
            account_id=caller.actor.account_id,
            fernet=totp_fernet(request.app.state.keys),
        )
    # Rendered, not redirected: the key is shown exactly once and is never stored unencrypted.
    secret = parse_qs(urlsplit(uri).query).get("secret", [""])[0]
    return get_renderer(request).render(
        request,
        "staff_security.html",
        caller=caller,
        csrf_token=caller.csrf_token,
        totp=TotpSetup(secret=secret, uri=uri),
    )


@router.get("/healthz")
def healthz(db: DB) -> JSONResponse:
    try:
        with transaction(db):
            db.execute(text("SELECT 1"))
    except SQLAlchemyError:
        log.exception("health check: the database does not answer")
        return JSONResponse({"status": "unavailable"}, status_code=503)
    return JSONResponse({"status": "ok"})
