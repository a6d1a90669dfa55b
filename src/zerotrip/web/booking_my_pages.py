"""A resident's own booking pages: my bookings, one booking (its QR for check-in, the calendar file,
cancelling), leaving a waitlist, the profile (建档: prefilled from household registration with consent,
for yourself or a family member) and the vaccination record (随身查) with the certificate. Forms post, then
redirect (POST → redirect → GET); a problem is shown on the page the form was on."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import Response

from zerotrip.booking import actions, ical, people_queries, queries, records, sources, waitlist
from zerotrip.booking import profiles as profile_actions
from zerotrip.booking.errors import (
    AppointmentClosed,
    BookingNotAllowed,
    BookingSystemMissing,
    HouseholdRecordMissing,
    NoDosesRecorded,
)
from zerotrip.booking.seats import normalise_number
from zerotrip.config import Settings
from zerotrip.db import transaction
from zerotrip.deps import Caller, get_keys, get_settings, resolve_caller
from zerotrip.keys import KeyStore
from zerotrip.problems import ValidationFailed
from zerotrip.web import booking_my_views as views
from zerotrip.web import booking_text, csrf
from zerotrip.web.auth_pages import CITIZEN
from zerotrip.web.datahub_text import Text
from zerotrip.web.i18n import N_
from zerotrip.web.page_kit import DB, check_citizen, sign_in_first
from zerotrip.web.render import get_renderer, redirect

router = APIRouter(include_in_schema=False)
AppSettings = Annotated[Settings, Depends(get_settings)]
Keys = Annotated[KeyStore, Depends(get_keys)]
Token = Annotated[str, Form()]
Field = Annotated[str, Form(max_length=100)]
Short = Annotated[str, Query(max_length=60)]
PageQuery = Annotated[int, Query(ge=1, le=10_000)]

# What a page says after a form succeeded (?done=…). Only these keys make a notice.
NOTICES = {
    "booked": N_("Booked. Show the QR code at the site; we will remind you the day before."),
    "replayed": N_("This booking was already made; here it is."),
    "rescheduled": N_("Your booking has moved to the new time. The old seat is given back."),
    "cancelled": N_("Your booking is cancelled and the seat given back."),
    "waiting": N_("You are on the waitlist. If a seat frees up you are booked into it and told."),
    "left": N_("You have left the waitlist."),
    "profile": N_("The profile is saved."),
    "certificate": N_("Your vaccination certificate is in your wallet."),
    "certificate_other": N_("The vaccination certificate is issued, in the wallet of the person it is for."),
}


def notice(done: str | None) -> Text | None:
    msgid = NOTICES.get(done or "")
    return Text(msgid) if msgid else None


def _citizen(request: Request, db: DB) -> Caller | Response:
    caller = resolve_caller(request, db)
    if not caller.actor.is_authenticated:
        return sign_in_first(request, CITIZEN)
    check_citizen(caller.actor)
    return caller


def _signed_in_citizen(request: Request, db: DB, csrf_token: str) -> Caller:
    with transaction(db):
        caller = resolve_caller(request, db)
        csrf.check_token(caller.csrf_token, csrf_token)
        check_citizen(caller.actor)
    return caller


def _render(
    request: Request, template: str, caller: Caller, status_code: int = 200, **context: object
) -> Response:
    return get_renderer(request).render(
        request, template, caller=caller, status_code=status_code, csrf_token=caller.csrf_token, **context
    )


@router.get("/me/bookings")
def my_bookings(request: Request, db: DB, page: PageQuery = 1, done: Short = "") -> Response:
    with transaction(db):
        caller = _citizen(request, db)
        if isinstance(caller, Response):
            return caller
        view = views.my_bookings(db, caller.actor, page=page, notice=notice(done))
    return _render(request, "booking/my_bookings.html", caller, view=view)


@router.get("/booking/appointments/{number}")
def booking(request: Request, db: DB, number: str, done: Short = "") -> Response:
    with transaction(db):
        caller = _citizen(request, db)
        if isinstance(caller, Response):
            return caller
        view = views.booking(db, caller.actor, number, notice=notice(done))
    return _render(request, "booking/booking.html", caller, view=view)


@router.get("/booking/appointments/{number}/calendar.ics")
def calendar(request: Request, db: DB, number: str, settings: AppSettings) -> Response:
    """The booking as an iCalendar file, with a reminder the day before (the API's file: one event whose
    sequence counts the reschedules)."""
    with transaction(db):
        caller = _citizen(request, db)
        if isinstance(caller, Response):
            return caller
        body = queries.calendar_file(
            db, actor=caller.actor, number=number, public_url=settings.web.public_url
        )
    return Response(
        body,
        media_type=ical.MEDIA_TYPE,
        headers={
            "Content-Disposition": f'attachment; filename="{ical.filename(normalise_number(number))}"',
            "Cache-Control": "no-store",
        },
    )


@router.post("/booking/appointments/{number}/cancel")
def cancel(request: Request, db: DB, number: str, settings: AppSettings, csrf_token: Token = "") -> Response:
    caller = _signed_in_citizen(request, db, csrf_token)
    try:
        with transaction(db):
            actions.cancel_appointment(db, actor=caller.actor, number=number, settings=settings.booking)
    except AppointmentClosed as problem:
        with transaction(db):
            view = views.booking(db, caller.actor, number, problem=booking_text.problem_view(problem))
        return _render(request, "booking/booking.html", caller, problem.status, view=view)
    return redirect(f"/booking/appointments/{number}?{urlencode({'done': 'cancelled'})}")


@router.post("/me/waitlist/{entry_id}/leave")
def leave(request: Request, db: DB, entry_id: int, csrf_token: Token = "") -> Response:
    caller = _signed_in_citizen(request, db, csrf_token)
    with transaction(db):
        waitlist.leave_waitlist(db, actor=caller.actor, entry_id=entry_id)
    return redirect("/me/bookings?" + urlencode({"done": "left"}))


# -- the profile ---------------------------------------------------------------------------------------------


@router.get("/me/profile")
def profile(request: Request, db: DB, done: Short = "") -> Response:
    with transaction(db):
        caller = _citizen(request, db)
        if isinstance(caller, Response):
            return caller
        view = views.profiles(db, caller.actor, notice=notice(done))
    return _render(request, "booking/profile.html", caller, view=view)


@router.post("/me/profile")
def build_profile(
    request: Request,
    db: DB,
    settings: AppSettings,
    csrf_token: Token = "",
    resident_id: Field = "",
    phone: Field = "",
    consent: Field = "",
) -> Response:
    """建档: read household registration (with consent) and keep it with the contact phone."""
    caller = _signed_in_citizen(request, db, csrf_token)
    try:
        with transaction(db):
            built = profile_actions.build_profile(
                db,
                actor=caller.actor,
                settings=settings.booking,
                phone=phone,
                consent=consent == "yes",
                resident_id=resident_id or None,
            )
        built.raise_for_refusal()
    except (ValidationFailed, HouseholdRecordMissing, BookingSystemMissing) as problem:
        with transaction(db):
            view = views.profiles(
                db,
                caller.actor,
                problem=booking_text.problem_view(problem),
                problem_for=resident_id or None,
            )
        return _render(request, "booking/profile.html", caller, problem.status, view=view)
    return redirect("/me/profile?" + urlencode({"done": "profile"}))


# -- the vaccination record ----------------------------------------------------------------------------------


@router.get("/me/vaccinations")
def vaccinations(
    request: Request, db: DB, settings: AppSettings, person: Short = "", done: Short = ""
) -> Response:
    """随身查: the doses the health records hold now, for yourself or a family member."""
    with transaction(db):
        caller = _citizen(request, db)
        if isinstance(caller, Response):
            return caller
        view = views.records(
            db, caller.actor, settings=settings.booking, resident_id=person or None, notice=notice(done)
        )
    return _render(request, "booking/records.html", caller, view=view)


@router.post("/me/vaccinations/certificate")
def certificate(
    request: Request,
    db: DB,
    settings: AppSettings,
    keys: Keys,
    csrf_token: Token = "",
    resident_id: Field = "",
) -> Response:
    """Obtain the COVID-19 vaccination certificate of the doses recorded now (a newer one replaces it)."""
    caller = _signed_in_citizen(request, db, csrf_token)
    person = resident_id or None
    with transaction(db):
        key = _person_key(db, caller, person)
        issued = records.obtain_covid_certificate(
            db,
            actor=caller.actor,
            system_actor=sources.booking_system(db, settings.booking),
            resident_id=key,
            keys=keys,
            settings=settings,
        )
    if issued.number is None:
        problem = issued.refusal or NoDosesRecorded()
        with transaction(db):
            view = views.records(
                db,
                caller.actor,
                settings=settings.booking,
                resident_id=person,
                problem=booking_text.problem_view(problem),
            )
        return _render(request, "booking/records.html", caller, problem.status, view=view)
    if key != _person_key(db, caller, None):
        # A family member's certificate is in their own wallet.
        return redirect("/me/vaccinations?" + urlencode({"person": key, "done": "certificate_other"}))
    return redirect("/me/certificates")


def _person_key(db: DB, caller: Caller, resident_id: str | None) -> str:
    """The resident ID of the citizen, or of the family member ``resident_id`` they may act for. Raises
    BookingNotAllowed through ``list_people`` for anyone else, NotFound for a stranger's ID."""
    people = people_queries.list_people(db, actor=caller.actor)
    for choice in people:
        if (resident_id is None and choice.relation == "self") or choice.resident_id == resident_id:
            return choice.resident_id
    raise BookingNotAllowed("you may act only for yourself and the family members household data names")
