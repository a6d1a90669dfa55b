"""Booking JSON API for site operators and the platform operator (/api/booking/operator).

Site operators (role ``site_operator`` over the department that runs a site) see a site's day list, check
people in by the booking QR, record the vaccination given, and manage the site's services, templates,
slots, closures and capacity (as may the platform administrator over the department). Statistics cover
the divisions the caller's roles do. Every action checks the caller; staff call these from the signed-in
pages (cookie and ``X-CSRF-Token``).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Depends
from pydantic import BaseModel

from zerotrip.booking import oversight, queries, schedule, seats, site_actions, site_queries
from zerotrip.booking.schemas import (
    AdministrationCreate,
    AdministrationRead,
    AppointmentRead,
    CapacityChange,
    CheckInRequest,
    ClosureCreate,
    ClosureRead,
    DayList,
    GenerateRequest,
    ServiceRead,
    ServiceSpec,
    SiteRead,
    SiteSpec,
    SlotRead,
    TemplateSpec,
)
from zerotrip.config import Settings
from zerotrip.db import transaction, write_transaction
from zerotrip.deps import DB, CurrentActor, get_keys, get_settings
from zerotrip.keys import KeyStore
from zerotrip.routing import PrefixRouter

router = PrefixRouter(prefix="/api/booking/operator", tags=["booking: sites"])
AppSettings = Annotated[Settings, Depends(get_settings)]
Keys = Annotated[KeyStore, Depends(get_keys)]


class Count(BaseModel):
    count: int


# -- the day at a site ---------------------------------------------------------------------------------------


@router.get("/sites/{code}/day", response_model=DayList, summary="A site's bookings of one day")
def day_list(code: str, db: DB, actor: CurrentActor, day: date | None = None) -> DayList:
    with transaction(db):
        return site_queries.day_list(db, actor=actor, site_code=code, day=day or seats.today())


@router.post(
    "/check-ins", response_model=AppointmentRead, summary="Check in the booking whose QR was scanned"
)
def check_in(body: CheckInRequest, db: DB, actor: CurrentActor) -> AppointmentRead:
    with write_transaction(db):
        appointment = site_actions.check_in(db, actor=actor, scanned=body.token)
        return queries.appointment_read(db, appointment)


@router.post(
    "/appointments/{number}/vaccination",
    response_model=AdministrationRead,
    status_code=201,
    summary="Record the vaccination given",
)
def record_vaccination(
    number: str, body: AdministrationCreate, db: DB, actor: CurrentActor, settings: AppSettings, keys: Keys
) -> AdministrationRead:
    """Pushed to the health department's vaccination records (a new version of the person's record), so
    the record lookup shows it; a COVID-19 dose issues the person's vaccination certificate anew."""
    with write_transaction(db):
        administration = site_actions.record_vaccination(
            db,
            actor=actor,
            number=number,
            lot=body.lot,
            administered_at=body.administered_at,
            adverse_reaction=body.adverse_reaction,
            keys=keys,
            settings=settings,
        )
        db.flush()
        return site_queries.administration_read(db, administration)


# -- sites and schedules -------------------------------------------------------------------------------------


@router.post("/sites", response_model=SiteRead, status_code=201, summary="Add a site")
def create_site(body: SiteSpec, db: DB, actor: CurrentActor) -> SiteRead:
    with transaction(db):
        site = schedule.create_site(db, actor=actor, spec=body)
        db.flush()
        return queries.site_read(site)


@router.put("/sites/{code}/services", response_model=ServiceRead, summary="Offer a product at the site")
def add_service(code: str, body: ServiceSpec, db: DB, actor: CurrentActor) -> ServiceRead:
    with transaction(db):
        service = schedule.add_service(db, actor=actor, site_code=code, spec=body)
        db.flush()
        return queries.service_read(service)


@router.post(
    "/sites/{code}/services/{product}/templates",
    response_model=Count,
    status_code=201,
    summary="Add a weekly slot pattern",
)
def add_templates(code: str, product: str, body: TemplateSpec, db: DB, actor: CurrentActor) -> Count:
    with transaction(db):
        return Count(
            count=len(
                schedule.add_templates(db, actor=actor, site_code=code, product_code=product, spec=body)
            )
        )


@router.post("/sites/{code}/slots", response_model=Count, summary="Generate slots from the templates")
def generate_slots(code: str, body: GenerateRequest, db: DB, actor: CurrentActor) -> Count:
    with transaction(db):
        made = schedule.generate_slots(
            db, actor=actor, site_code=code, first_day=body.first_day, last_day=body.last_day
        )
    return Count(count=made)


@router.post("/sites/{code}/closures", response_model=ClosureRead, status_code=201, summary="Close a site")
def close_site(code: str, body: ClosureCreate, db: DB, actor: CurrentActor) -> ClosureRead:
    """Its slots in the period close; every booking in them is cancelled and its person told why."""
    with write_transaction(db):
        closed = schedule.close_site(
            db,
            actor=actor,
            site_code=code,
            first_day=body.first_day,
            last_day=body.last_day,
            reason=body.reason,
            product_code=body.product_code,
        )
        db.flush()
        return ClosureRead(
            id=closed.closure.id,
            site_code=code,
            product_code=body.product_code,
            first_day=closed.closure.first_day,
            last_day=closed.closure.last_day,
            reason=closed.closure.reason,
            slots_closed=closed.slots,
            bookings_cancelled=closed.cancelled,
        )


@router.put("/slots/{slot_id}/capacity", response_model=SlotRead, summary="Change a slot's capacity")
def change_capacity(
    slot_id: int, body: CapacityChange, db: DB, actor: CurrentActor, settings: AppSettings
) -> SlotRead:
    """Below the seats taken this is refused unless ``cancel_excess`` (the most recent bookings are then
    cancelled, each person told); added seats go to the waitlist first."""
    with write_transaction(db):
        slot = schedule.change_capacity(
            db,
            actor=actor,
            slot_id=slot_id,
            capacity=body.capacity,
            settings=settings.booking,
            cancel_excess=body.cancel_excess,
        )
        place = seats.place_of(db, slot.id)
        return queries.slot_read(slot, place.site.code, place.service.product_code)


# -- the platform operator's figures ---------------------------------------------------------------


@router.get("/figures", response_model=oversight.Figures, summary="Capacity, no-shows and uptake by county")
def figures(db: DB, actor: CurrentActor, first_day: date, last_day: date) -> oversight.Figures:
    """By county and by day, for the divisions of the caller's platform administrator roles."""
    with transaction(db):
        return oversight.figures(db, actor=actor, first_day=first_day, last_day=last_day, today=seats.today())
