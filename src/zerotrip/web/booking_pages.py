"""Finding and booking a slot (预约): sites near a place or in a county with their next free slots, a site's
free slots, and confirming a booking for yourself or a family member (or moving a booking there). Anyone
may search; booking takes a signed-in citizen with a profile. Forms post, then redirect to the booking
(POST → redirect → GET); a refusal is shown on the confirmation page, in words, with what to do instead."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import Response

from zerotrip.booking import actions, precheck, waitlist
from zerotrip.booking.api import worker_state
from zerotrip.booking.errors import (
    AlreadyBooked,
    AppointmentClosed,
    BookingRateLimited,
    IdempotencyKeyReused,
    NotEligible,
    ProfileRequired,
    SlotFull,
    SlotNotBookable,
    WaitlistNotOffered,
)
from zerotrip.config import Settings
from zerotrip.db import transaction, write_transaction
from zerotrip.deps import Caller, get_settings, resolve_caller
from zerotrip.problems import Problem, ValidationFailed
from zerotrip.web import booking_text, csrf
from zerotrip.web import booking_views as views
from zerotrip.web.auth_pages import CITIZEN
from zerotrip.web.page_kit import DB, check_citizen, sign_in_first
from zerotrip.web.render import get_renderer, redirect

router = APIRouter(include_in_schema=False)
AppSettings = Annotated[Settings, Depends(get_settings)]
Token = Annotated[str, Form()]
Field = Annotated[str, Form(max_length=100)]
Short = Annotated[str, Query(max_length=60)]
PageQuery = Annotated[int, Query(ge=1, le=10_000)]
# What a booking attempt may fail with and show on the confirmation page, instead of an error page.
SHOWN_ON_PAGE = (
    AlreadyBooked,
    AppointmentClosed,
    BookingRateLimited,
    IdempotencyKeyReused,
    NotEligible,
    ProfileRequired,
    SlotFull,
    SlotNotBookable,
    ValidationFailed,
    WaitlistNotOffered,
)


def _day(text: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise ValidationFailed.field("day", "must be a date written YYYY-MM-DD") from exc


@router.get("/booking")
def search(
    request: Request,
    db: DB,
    county: Short = "",
    near: Short = "",
    product: Short = "",
    day: Short = "",
    reschedule: Short = "",
    page: PageQuery = 1,
) -> Response:
    """预约接种 and other appointments: search sites in a county or near a place."""
    try:
        with transaction(db):
            caller = resolve_caller(request, db)
            view = views.search(
                db,
                county=county.strip(),
                near=near.strip(),
                product=product,
                day=_day(day.strip()),
                page=page,
                reschedule=reschedule or None,
            )
        status = 200
    except ValidationFailed as problem:
        view = views.empty_search(
            booking_text.problem_view(problem), county=county, near=near, product=product, day=day
        )
        status = problem.status
    return get_renderer(request).render(
        request, "booking/search.html", caller=caller, status_code=status, view=view
    )


@router.get("/booking/sites/{code}")
def site(
    request: Request, db: DB, code: str, settings: AppSettings, product: Short = "", reschedule: Short = ""
) -> Response:
    with transaction(db):
        caller = resolve_caller(request, db)
        view = views.site(db, code, product=product, settings=settings.booking, reschedule=reschedule or None)
    return get_renderer(request).render(request, "booking/site.html", caller=caller, view=view)


def _confirm_page(
    request: Request, caller: Caller, view: views.ConfirmView, status_code: int = 200
) -> Response:
    return get_renderer(request).render(
        request,
        "booking/confirm.html",
        caller=caller,
        status_code=status_code,
        view=view,
        csrf_token=caller.csrf_token,
    )


@router.get("/booking/sites/{code}/slots/{slot_id}")
def confirm(
    request: Request, db: DB, code: str, slot_id: int, settings: AppSettings, reschedule: Short = ""
) -> Response:
    """The slot about to be booked, and whom for (a signed-in citizen's own family)."""
    with transaction(db):
        caller = resolve_caller(request, db)
        if not caller.actor.is_authenticated:
            return sign_in_first(request, CITIZEN)
        check_citizen(caller.actor)
        view = views.confirm(
            db, caller.actor, code, slot_id, settings=settings.booking, reschedule=reschedule or None
        )
    return _confirm_page(request, caller, view)


def _signed_in_citizen(request: Request, db: DB, csrf_token: str) -> Caller:
    with transaction(db):
        caller = resolve_caller(request, db)
        csrf.check_token(caller.csrf_token, csrf_token)
        check_citizen(caller.actor)
    return caller


@router.post("/booking/sites/{code}/slots/{slot_id}")
def book(
    request: Request,
    db: DB,
    code: str,
    slot_id: int,
    settings: AppSettings,
    csrf_token: Token = "",
    resident_id: Field = "",
    idempotency_key: Field = "",
) -> Response:
    """Book the slot: one seat, never two for one press (the form's idempotency key)."""
    caller = _signed_in_citizen(request, db, csrf_token)
    state = worker_state(request.app)
    try:
        # The slot's own refusals (full, closed, past) need no personal data: said before anything is read.
        with transaction(db):
            views.find_slot(db, code, slot_id, settings.booking)
            precheck.precheck_booking(
                db,
                actor=caller.actor,
                slot_id=slot_id,
                settings=settings.booking,
                idempotency_key=idempotency_key or None,
            )
        with write_transaction(db):
            outcome = actions.book_appointment(
                db,
                actor=caller.actor,
                slot_id=slot_id,
                settings=settings.booking,
                resident_id=resident_id or None,
                idempotency_key=idempotency_key or None,
                limiter=state.limiter,
                catalogue=state.catalogue,
                systems=state.systems,
            )
            number = outcome.appointment.number if outcome.appointment is not None else None
        # A refusal found after the person's doses were read is raised once the read's audit is committed.
        outcome.raise_for_refusal()
    except SHOWN_ON_PAGE as problem:
        return _refused(request, db, caller, code, slot_id, settings, problem, resident_id, idempotency_key)
    done = "replayed" if outcome.is_replay else "booked"
    return redirect(f"/booking/appointments/{number}?{urlencode({'done': done})}")


def _refused(
    request: Request,
    db: DB,
    caller: Caller,
    code: str,
    slot_id: int,
    settings: Settings,
    problem: Problem,
    resident_id: str,
    key: str,
    reschedule: str | None = None,
) -> Response:
    # A retry after a refusal books with a fresh key: the refused attempt kept none.
    offer = isinstance(problem, SlotFull) and bool(problem.extensions.get("waitlist"))
    with transaction(db):
        view = views.confirm(
            db,
            caller.actor,
            code,
            slot_id,
            settings=settings.booking,
            reschedule=reschedule,
            selected=resident_id or None,
            problem=booking_text.problem_view(problem),
            offer_waitlist=offer and reschedule is None,
        )
    return _confirm_page(request, caller, view, problem.status)


@router.post("/booking/sites/{code}/slots/{slot_id}/waitlist")
def join_waitlist(
    request: Request,
    db: DB,
    code: str,
    slot_id: int,
    settings: AppSettings,
    csrf_token: Token = "",
    resident_id: Field = "",
) -> Response:
    """Wait for a seat of a full slot: booked in order when one frees up, and told."""
    caller = _signed_in_citizen(request, db, csrf_token)
    try:
        with write_transaction(db):
            views.find_slot(db, code, slot_id, settings.booking)
            joined = waitlist.join_waitlist(
                db,
                actor=caller.actor,
                slot_id=slot_id,
                settings=settings.booking,
                resident_id=resident_id or None,
                limiter=worker_state(request.app).limiter,
            )
        joined.raise_for_refusal()
    except SHOWN_ON_PAGE as problem:
        return _refused(request, db, caller, code, slot_id, settings, problem, resident_id, "")
    return redirect("/me/bookings?" + urlencode({"done": "waiting"}))


@router.post("/booking/appointments/{number}/reschedule")
def reschedule(
    request: Request,
    db: DB,
    number: str,
    settings: AppSettings,
    csrf_token: Token = "",
    site_code: Field = "",
    slot_id: Annotated[int, Form(ge=1)] = 0,
) -> Response:
    """Move a booking to another slot: the new seat and the old one change hands together, so the person
    never holds two bookings, or none."""
    caller = _signed_in_citizen(request, db, csrf_token)
    try:
        with write_transaction(db):
            views.find_slot(db, site_code, slot_id, settings.booking)
            outcome = actions.reschedule_appointment(
                db,
                actor=caller.actor,
                number=number,
                slot_id=slot_id,
                settings=settings.booking,
                limiter=worker_state(request.app).limiter,
                catalogue=worker_state(request.app).catalogue,
            )
        outcome.raise_for_refusal()
    except SHOWN_ON_PAGE as problem:
        return _refused(request, db, caller, site_code, slot_id, settings, problem, "", "", reschedule=number)
    return redirect(f"/booking/appointments/{number}?{urlencode({'done': 'rescheduled'})}")
