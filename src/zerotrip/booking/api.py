"""Booking JSON API for residents and the public (/api/booking); the site operators' routes are in
``api_operator``.

Searching sites, slots and the product catalogue is public. Profiles, eligibility, bookings, the waitlist,
the record lookup and the certificate are for a signed-in citizen (session cookie and the
``X-CSRF-Token`` header), for themselves or for a family member named by ``resident_id``.

Booking is the rush path: the route is ``async`` and runs its work in the thread pool once. It first
reads the caller's session and what needs no personal data and no lock (a full, closed or missing slot)
in one statement of a read-only transaction (``precheck``), then books in a write transaction (on SQLite
one that takes the write lock at its start, so concurrent bookings queue rather than fail), and answers
from the rows that transaction holds. A new booking answers 201, a retried request with the same
idempotency key (the ``Idempotency-Key`` header or ``idempotency_key``) 200 with the same booking.
Refusals found after the person's doses were read are raised after the commit, so that read stays in
the audit log. The per-person rate limit, the gateway's catalogue cache and the booking system's identity
live in each worker process (``worker_state``), shared with the pages.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import Depends, Header, Query, Request, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from zerotrip.booking import (
    actions,
    ical,
    people_queries,
    precheck,
    profiles,
    queries,
    records,
    seats,
    sources,
    waitlist,
)
from zerotrip.booking.schemas import (
    AppointmentPage,
    AppointmentRead,
    BookingCreate,
    CancelRequest,
    CertificateIssued,
    EligibilityRead,
    PersonChoice,
    ProductRead,
    ProfileCreate,
    ProfileRead,
    RecordLookup,
    RescheduleRequest,
    SitePage,
    SiteRead,
    SlotRead,
    WaitlistJoin,
    WaitlistRead,
)
from zerotrip.config import BookingSettings, Settings
from zerotrip.datahub.cache import CatalogueCache
from zerotrip.datahub.ratelimit import SlidingWindowLimiter
from zerotrip.db import transaction, write_transaction
from zerotrip.deps import (
    DB,
    CurrentActor,
    caller_of_session,
    get_keys,
    get_settings,
    resolve_caller,
    session_cookie,
)
from zerotrip.identity.actor import Actor
from zerotrip.keys import KeyStore
from zerotrip.problems import NotAuthenticated
from zerotrip.routing import PrefixRouter

router = PrefixRouter(prefix="/api/booking", tags=["booking"])
AppSettings = Annotated[Settings, Depends(get_settings)]
Keys = Annotated[KeyStore, Depends(get_keys)]


@dataclass(frozen=True)
class BookingState:
    """What a worker process keeps for booking: the per-person attempt limiter, the gateway's catalogue
    cache and the booking system's identity."""

    limiter: SlidingWindowLimiter
    catalogue: CatalogueCache
    systems: sources.SystemCache


_STATE_LOCK = threading.Lock()


def worker_state(app: Any) -> BookingState:
    """The worker's booking state, made on first use; the API and the pages share it (so one limit counts
    a person's attempts from both)."""
    state: BookingState | None = getattr(app.state, "booking_state", None)
    if state is not None:
        return state
    with _STATE_LOCK:
        state = getattr(app.state, "booking_state", None)
        if state is None:
            settings: Settings = app.state.settings
            state = app.state.booking_state = BookingState(
                limiter=SlidingWindowLimiter(settings.booking.attempts_per_minute),
                catalogue=CatalogueCache(settings.datahub.gateway_catalogue_seconds),
                systems=sources.SystemCache(),
            )
    return state


async def booking_state(request: Request) -> BookingState:
    """``worker_state`` as a dependency (no I/O: not worth a thread)."""
    return worker_state(request.app)


State = Annotated[BookingState, Depends(booking_state)]


# -- the catalogue and sites (public) ------------------------------------------------------------------------


@router.get("/products", response_model=list[ProductRead], summary="What can be booked")
def list_products() -> list[ProductRead]:
    return queries.list_products()


@router.get("/sites", response_model=SitePage, summary="Find sites with their next free slots")
def search_sites(
    db: DB,
    near: Annotated[str | None, Query(description="A division code or latitude,longitude.")] = None,
    division: Annotated[str | None, Query(pattern=r"^\d{6}$", description="A county, a city.")] = None,
    product: Annotated[str | None, Query(max_length=40)] = None,
    day: date | None = None,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=100)] = 20,
) -> SitePage:
    with transaction(db):
        return queries.search_sites(
            db, near=near, division_code=division, product_code=product, day=day, page=page, per_page=per_page
        )


@router.get("/sites/{code}", response_model=SiteRead, summary="One site and what it offers")
def read_site(code: str, db: DB) -> SiteRead:
    with transaction(db):
        return queries.get_site(db, code)


@router.get("/sites/{code}/slots", response_model=list[SlotRead], summary="A site's slots")
def site_slots(
    code: str,
    db: DB,
    product: Annotated[str | None, Query(max_length=40)] = None,
    first_day: date | None = None,
    days: Annotated[int, Query(ge=1, le=31)] = 7,
) -> list[SlotRead]:
    first = first_day or seats.today()
    with transaction(db):
        return queries.list_slots(
            db,
            site_code=code,
            product_code=product,
            first_day=first,
            last_day=first + timedelta(days=days - 1),
        )


# -- people and profiles -------------------------------------------------------------------------------------


@router.get("/people", response_model=list[PersonChoice], summary="Who I may book for")
def people(db: DB, actor: CurrentActor) -> list[PersonChoice]:
    with transaction(db):
        return people_queries.list_people(db, actor=actor)


@router.post("/profiles", response_model=ProfileRead, status_code=201, summary="Build a profile (建档)")
def build_profile(body: ProfileCreate, db: DB, actor: CurrentActor, settings: AppSettings) -> ProfileRead:
    """Prefilled from household registration, read through the datahub gateway with the consent given
    here; for yourself or a family member (``resident_id``)."""
    with transaction(db):
        built = profiles.build_profile(
            db,
            actor=actor,
            settings=settings.booking,
            phone=body.phone,
            consent=body.consent,
            resident_id=body.resident_id,
        )
        read = people_queries.profile_read(built.profile) if built.profile is not None else None
    built.raise_for_refusal()
    assert read is not None
    return read


@router.get("/eligibility", response_model=EligibilityRead, summary="May this person book this, on that day?")
def eligibility(
    db: DB,
    actor: CurrentActor,
    settings: AppSettings,
    state: State,
    product: Annotated[str, Query(max_length=40)],
    day: date,
    resident_id: Annotated[str | None, Query(pattern=r"^\d{17}[\dXx]$")] = None,
) -> EligibilityRead:
    with transaction(db):
        return people_queries.preview_eligibility(
            db,
            actor=actor,
            product_code=product,
            day=day,
            settings=settings.booking,
            resident_id=resident_id,
            catalogue=state.catalogue,
        )


# -- booking -------------------------------------------------------------------------------------------------


@router.post(
    "/appointments",
    response_model=AppointmentRead,
    status_code=201,
    summary="Book a seat",
    responses={
        200: {"description": "A retried request: the booking the first one made"},
        409: {},
        422: {},
        429: {},
    },
)
async def book(
    request: Request,
    body: BookingCreate,
    response: Response,
    idempotency_key: Annotated[str | None, Header(max_length=64)] = None,
) -> AppointmentRead:
    """A seat of the slot for you or a family member (``resident_id``): 201 with the booking; 200 with the
    same booking when an earlier request with this idempotency key made it."""
    read, is_replay = await run_in_threadpool(_book, request, body, body.idempotency_key or idempotency_key)
    if is_replay:
        response.status_code = 200
    return read


def _book(request: Request, body: BookingCreate, key: str | None) -> tuple[AppointmentRead, bool]:
    # The rush's route: the session, the settings and the worker's state are taken here, in the one thread
    # hop, rather than through dependencies (each costs every attempt, four in five of which are refused
    # after one statement). The caller is resolved here too, in the same statement as the slot's state
    # (``precheck``): a full slot is refused after one short read.
    settings: Settings = request.app.state.settings
    state = worker_state(request.app)
    with request.app.state.session_factory() as db:
        with transaction(db):
            actor = _caller_past_precheck(request, db, body.slot_id, key, settings.booking)
        with write_transaction(db):
            outcome = actions.book_appointment(
                db,
                actor=actor,
                slot_id=body.slot_id,
                settings=settings.booking,
                resident_id=body.resident_id,
                idempotency_key=key,
                limiter=state.limiter,
                catalogue=state.catalogue,
                systems=state.systems,
            )
            read = queries.booked_read(db, outcome) if outcome.refusal is None else None
    outcome.raise_for_refusal()
    assert read is not None
    return read, outcome.is_replay


def _caller_past_precheck(
    request: Request, db: Session, slot_id: int, key: str | None, settings: BookingSettings
) -> Actor:
    """The signed-in caller, once the slot's own refusals are out of the way. Raises NotAuthenticated,
    CsrfFailed, InvalidToken, SlotNotFound, SlotNotBookable, SlotFull."""
    token = session_cookie(request)
    if token is None:  # a bearer token (refused later: bookings are made by citizens), or nobody
        actor = resolve_caller(request, db).actor
        if not actor.is_authenticated:
            raise NotAuthenticated()
        precheck.precheck_booking(db, actor=actor, slot_id=slot_id, idempotency_key=key, settings=settings)
        return actor
    resolved, refusal = precheck.precheck_with_session(
        db, token=token, slot_id=slot_id, idempotency_key=key, settings=settings
    )
    actor = caller_of_session(request, token, resolved).actor
    if not actor.is_authenticated:
        raise NotAuthenticated()
    if refusal is not None:
        raise refusal
    return actor


@router.get("/appointments", response_model=AppointmentPage, summary="My bookings (and those I made)")
def my_appointments(
    db: DB,
    actor: CurrentActor,
    status: Annotated[str | None, Query(pattern=r"^(booked|checked_in|completed|cancelled|no_show)$")] = None,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=100)] = 20,
) -> AppointmentPage:
    with transaction(db):
        items, total = queries.list_my_appointments(
            db, actor=actor, page=page, per_page=per_page, status=status
        )
    return AppointmentPage(items=items, total=total, page=page, per_page=per_page)


@router.get("/appointments/{number}", response_model=AppointmentRead, summary="One booking")
def read_appointment(number: str, db: DB, actor: CurrentActor) -> AppointmentRead:
    with transaction(db):
        return queries.get_appointment(db, actor=actor, number=number)


@router.get(
    "/appointments/{number}/ical",
    response_class=Response,
    summary="The booking as an iCalendar file",
    responses={200: {"content": {"text/calendar": {}}}},
)
def appointment_calendar(number: str, db: DB, actor: CurrentActor, settings: AppSettings) -> Response:
    with transaction(db):
        content = queries.calendar_file(db, actor=actor, number=number, public_url=settings.web.public_url)
    return Response(
        content,
        media_type=ical.MEDIA_TYPE,
        headers={
            "Content-Disposition": f'attachment; filename="{ical.filename(seats.normalise_number(number))}"'
        },
    )


@router.post("/appointments/{number}/cancel", response_model=AppointmentRead, summary="Cancel a booking")
def cancel(
    number: str, body: CancelRequest, db: DB, actor: CurrentActor, settings: AppSettings
) -> AppointmentRead:
    """The seat is given back at once (to the slot's waitlist first)."""
    with write_transaction(db):
        appointment = actions.cancel_appointment(
            db, actor=actor, number=number, settings=settings.booking, reason=body.reason
        )
        return queries.appointment_read(db, appointment, with_qr=True)


@router.post(
    "/appointments/{number}/reschedule",
    response_model=AppointmentRead,
    summary="Move a booking to another slot",
)
def reschedule(
    number: str, body: RescheduleRequest, db: DB, actor: CurrentActor, settings: AppSettings, state: State
) -> AppointmentRead:
    """The new seat is taken and the old one given back in one transaction: when the new slot is full,
    nothing changes."""
    with write_transaction(db):
        outcome = actions.reschedule_appointment(
            db,
            actor=actor,
            number=number,
            slot_id=body.slot_id,
            settings=settings.booking,
            limiter=state.limiter,
            catalogue=state.catalogue,
        )
        read = (
            queries.appointment_read(db, outcome.appointment, with_qr=True) if outcome.appointment else None
        )
    outcome.raise_for_refusal()
    assert read is not None
    return read


# -- the waitlist --------------------------------------------------------------------------------------------


@router.post(
    "/waitlist", response_model=WaitlistRead, status_code=201, summary="Wait for a seat of a full slot"
)
def join_waitlist(
    body: WaitlistJoin, db: DB, actor: CurrentActor, settings: AppSettings, state: State
) -> WaitlistRead:
    with write_transaction(db):
        joined = waitlist.join_waitlist(
            db,
            actor=actor,
            slot_id=body.slot_id,
            settings=settings.booking,
            resident_id=body.resident_id,
            limiter=state.limiter,
        )
        read = queries.waitlist_read(db, joined.entry) if joined.entry is not None else None
    joined.raise_for_refusal()
    assert read is not None
    return read


@router.get("/waitlist", response_model=list[WaitlistRead], summary="My waitlist entries")
def my_waitlist(db: DB, actor: CurrentActor) -> list[WaitlistRead]:
    with transaction(db):
        return queries.list_my_waitlist(db, actor=actor)


@router.delete("/waitlist/{entry_id}", response_model=WaitlistRead, summary="Stop waiting")
def leave_waitlist(entry_id: int, db: DB, actor: CurrentActor) -> WaitlistRead:
    with write_transaction(db):
        entry = waitlist.leave_waitlist(db, actor=actor, entry_id=entry_id)
        return queries.waitlist_read(db, entry)


# -- the record lookup and the certificate -------------------------------------------------------------------


@router.get("/records", response_model=RecordLookup, summary="My vaccination record (随身查)")
def record_lookup(
    db: DB,
    actor: CurrentActor,
    settings: AppSettings,
    resident_id: Annotated[str | None, Query(pattern=r"^\d{17}[\dXx]$")] = None,
) -> RecordLookup:
    """The doses the health department's records hold now, read through the datahub gateway for you (it
    shows in your data-use log), and your bookings."""
    with transaction(db):
        return people_queries.lookup_records(
            db, actor=actor, settings=settings.booking, resident_id=resident_id
        )


@router.post(
    "/certificates/covid-vaccination",
    response_model=CertificateIssued,
    status_code=201,
    summary="Obtain my COVID-19 vaccination certificate",
)
def obtain_certificate(
    db: DB,
    actor: CurrentActor,
    settings: AppSettings,
    keys: Keys,
    resident_id: Annotated[str | None, Query(pattern=r"^\d{17}[\dXx]$")] = None,
) -> CertificateIssued:
    """A certificate of the COVID-19 doses the records hold now, into the wallet; earlier ones are
    revoked as superseded."""
    with write_transaction(db):
        _, key = seats.person_and_key(db, actor, resident_id)
        issued = records.obtain_covid_certificate(
            db,
            actor=actor,
            system_actor=sources.booking_system(db, settings.booking),
            resident_id=key,
            keys=keys,
            settings=settings,
        )
    number = issued.raise_for_refusal()
    return CertificateIssued(number=number, doses=issued.doses)
