"""At the site (接种单位), for its operators: the day's list, checking a person in by the booking QR (scanned
by a reader that types it, or entered by hand), and recording the vaccination, which becomes a new version
of the person's vaccination record. Forms post, then redirect to the day (POST → redirect → GET); a
refusal is shown on the day's page in words."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import Response

from zerotrip.booking import site_actions
from zerotrip.booking.errors import (
    AppointmentNotFound,
    BookingSystemMissing,
    CheckInRefused,
    RecordRefused,
)
from zerotrip.common import clock
from zerotrip.config import Settings
from zerotrip.db import transaction
from zerotrip.deps import Caller, get_keys, get_settings, resolve_caller
from zerotrip.keys import KeyStore
from zerotrip.problems import Problem, ValidationFailed
from zerotrip.web import booking_oversight_views as oversight_views
from zerotrip.web import booking_site_views as views
from zerotrip.web import booking_text, csrf
from zerotrip.web.auth_pages import STAFF
from zerotrip.web.page_kit import DB, check_staff, sign_in_first
from zerotrip.web.render import get_renderer, redirect

router = APIRouter(include_in_schema=False)
AppSettings = Annotated[Settings, Depends(get_settings)]
Keys = Annotated[KeyStore, Depends(get_keys)]
Token = Annotated[str, Form()]
Field = Annotated[str, Form(max_length=300)]
Short = Annotated[str, Query(max_length=40)]
LOT = re.compile(r"[0-9A-Z]{8,12}")  # as vaccination records hold lot (batch) numbers
SHOWN_ON_PAGE = (AppointmentNotFound, CheckInRefused, RecordRefused, BookingSystemMissing, ValidationFailed)


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError as exc:
        raise ValidationFailed.field("day", "must be a date written YYYY-MM-DD") from exc


def _page(request: Request, caller: Caller, view: views.DayView, status_code: int = 200) -> Response:
    return get_renderer(request).render(
        request,
        "booking/day.html",
        caller=caller,
        status_code=status_code,
        view=view,
        csrf_token=caller.csrf_token,
    )


@router.get("/staff/booking/sites/{code}")
def day(request: Request, db: DB, code: str, day: Short = "", done: Short = "", ref: Short = "") -> Response:
    with transaction(db):
        caller = resolve_caller(request, db)
        if not caller.actor.is_authenticated:
            return sign_in_first(request, STAFF)
        check_staff(caller.actor)
        view = views.day_list(db, caller.actor, code, _day(day), done=done, ref=ref)
    return _page(request, caller, view)


def _signed_in_staff(request: Request, db: DB, csrf_token: str) -> Caller:
    with transaction(db):
        caller = resolve_caller(request, db)
        csrf.check_token(caller.csrf_token, csrf_token)
        check_staff(caller.actor)
    return caller


def _refused(request: Request, db: DB, caller: Caller, code: str, problem: Problem) -> Response:
    with transaction(db):
        view = views.day_list(db, caller.actor, code, None, problem=booking_text.problem_view(problem))
    return _page(request, caller, view, problem.status)


@router.post("/staff/booking/sites/{code}/check-in")
def check_in(request: Request, db: DB, code: str, csrf_token: Token = "", token: Field = "") -> Response:
    """Check in the person whose booking QR was scanned (or whose code was typed)."""
    caller = _signed_in_staff(request, db, csrf_token)
    try:
        if not token.strip():
            raise ValidationFailed.field("token", "scan the booking QR code or type what it holds")
        with transaction(db):
            appointment = site_actions.check_in(db, actor=caller.actor, scanned=token)
            number, day = appointment.number, appointment.day
    except SHOWN_ON_PAGE as problem:
        return _refused(request, db, caller, code, problem)
    return redirect(views.day_url(code, day, done="checked_in", ref=number) + f"#entry-{number}")


@router.post("/staff/booking/sites/{code}/appointments/{number}/record")
def record(
    request: Request,
    db: DB,
    code: str,
    number: str,
    settings: AppSettings,
    keys: Keys,
    csrf_token: Token = "",
    lot: Field = "",
    adverse_reaction: Field = "无",
) -> Response:
    """Record the dose given: product and dose from the booking, the lot typed, the time now, the operator
    from the session."""
    caller = _signed_in_staff(request, db, csrf_token)
    try:
        reaction = adverse_reaction if adverse_reaction in {r for r, _ in views.REACTIONS} else ""
        if not reaction:
            raise ValidationFailed.field("adverse_reaction", "choose one of the reactions listed")
        lot = lot.strip().upper()
        if not LOT.fullmatch(lot):
            raise ValidationFailed.field("lot", "the lot number is 8 to 12 capital letters and digits")
        with transaction(db):
            administration = site_actions.record_vaccination(
                db,
                actor=caller.actor,
                number=number,
                lot=lot,
                keys=keys,
                settings=settings,
                adverse_reaction=reaction,
            )
            day = administration.administered_at.astimezone(clock.CHINA).date()
    except SHOWN_ON_PAGE as problem:
        return _refused(request, db, caller, code, problem)
    return redirect(views.day_url(code, day, done="recorded", ref=number) + f"#entry-{number}")


@router.get("/staff/booking")
def sites(
    request: Request, db: DB, county: Short = "", page: Annotated[int, Query(ge=1, le=10_000)] = 1
) -> Response:
    """The sites the staff member runs (each to its day list), and the figures for the platform operator."""
    with transaction(db):
        caller = resolve_caller(request, db)
        if not caller.actor.is_authenticated:
            return sign_in_first(request, STAFF)
        check_staff(caller.actor)
        view = oversight_views.sites(db, caller.actor, county=county.strip(), page=page)
    return get_renderer(request).render(request, "booking/sites.html", caller=caller, view=view)


@router.get("/staff/booking/overview")
def overview(request: Request, db: DB, first: Short = "", last: Short = "") -> Response:
    """Capacity, no-shows and uptake by county, for the platform operator."""
    with transaction(db):
        caller = resolve_caller(request, db)
        if not caller.actor.is_authenticated:
            return sign_in_first(request, STAFF)
        check_staff(caller.actor)
        view = oversight_views.overview(db, caller.actor, first_day=_day(first), last_day=_day(last))
    return get_renderer(request).render(request, "booking/overview.html", caller=caller, view=view)
