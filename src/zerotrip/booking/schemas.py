"""Input and output shapes of booking, shared by the actions, the API, the CLI and the pages.

Times are timezone-aware; ``day`` values are dates in China (slots, day lists). Reads are plain values,
never ORM rows, so a page can render them without touching the database.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

AppointmentStatus = Literal["booked", "checked_in", "completed", "cancelled", "no_show"]
HOURS = r"^([01]\d|2[0-3]):[0-5]\d$"
DIVISION = r"^\d{6}$"
RESIDENT_ID = r"^\d{17}[\dXx]$"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


# -- sites and schedules -------------------------------------------------------------------------------------


class SiteSpec(BaseModel):
    code: str = Field(min_length=3, max_length=32, pattern=r"^[0-9A-Za-z\-]+$")
    name: str = Field(min_length=2, max_length=120)
    org_code: str = Field(description="Code of the department that runs the site (its operators' unit).")
    division_code: str = Field(pattern=DIVISION)
    address: str = Field(min_length=2, max_length=200)
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    phone: str | None = Field(None, max_length=40)
    opening_hours: dict[str, list[tuple[str, str]]] = Field(
        default_factory=dict,
        description='By weekday (mon … sun): periods such as ["08:00", "11:30"]; a day left out is closed.',
    )

    @field_validator("opening_hours")
    @classmethod
    def _hours(cls, value: dict[str, list[tuple[str, str]]]) -> dict[str, list[tuple[str, str]]]:
        for weekday, periods in value.items():
            if weekday not in WEEKDAYS:
                raise ValueError(f"weekdays are {', '.join(WEEKDAYS)}")
            for start, end in periods:
                if not (re.match(HOURS, start) and re.match(HOURS, end)) or start >= end:
                    raise ValueError(f"{start}-{end} is not a period of the day")
        return value


class SiteImport(SiteSpec):
    """A site with what it offers, as an import gives it (``site_import.import_sites``)."""

    product_codes: list[str] = Field(min_length=1, max_length=20)
    capacity_per_hour: int = Field(ge=1, le=10_000, description="Seats per hour of opening, per service.")


class ServiceSpec(BaseModel):
    product_code: str = Field(min_length=1, max_length=40, description="A product of the catalogue.")
    has_waitlist: bool = True


class TemplateSpec(BaseModel):
    weekdays: list[int] = Field(
        min_length=1, max_length=7, description="ISO weekdays the slot recurs on: 1 Monday … 7 Sunday."
    )
    starts_at: time = Field(description="Start in China time.")
    minutes: int = Field(ge=5, le=720)
    capacity: int = Field(ge=1, le=100_000)
    valid_from: date
    valid_until: date | None = None

    @field_validator("weekdays")
    @classmethod
    def _weekdays(cls, value: list[int]) -> list[int]:
        if any(not 1 <= d <= 7 for d in value) or len(set(value)) != len(value):
            raise ValueError("distinct weekdays from 1 (Monday) to 7 (Sunday)")
        return sorted(value)


class GenerateRequest(BaseModel):
    first_day: date
    last_day: date


class ClosureCreate(BaseModel):
    first_day: date
    last_day: date
    reason: str = Field(min_length=1, max_length=500)
    product_code: str | None = Field(None, description="Close only this service; none: the whole site.")


class ClosureRead(BaseModel):
    id: int
    site_code: str
    product_code: str | None
    first_day: date
    last_day: date
    reason: str
    slots_closed: int
    bookings_cancelled: int


class CapacityChange(BaseModel):
    capacity: int = Field(ge=0, le=100_000)
    cancel_excess: bool = Field(
        False, description="Cancel the most recent bookings beyond the new capacity (the people are told)."
    )


class ServiceRead(BaseModel):
    product_code: str
    name: str
    name_en: str
    category: str
    has_waitlist: bool


class SlotRead(BaseModel):
    id: int
    site_code: str
    product_code: str
    day: date
    starts_at: datetime
    ends_at: datetime
    capacity: int
    booked: int
    free: int
    status: Literal["open", "closed"]


class SiteRead(BaseModel):
    code: str
    name: str
    division_code: str
    address: str
    latitude: float
    longitude: float
    phone: str | None
    opening_hours: dict[str, list[list[str]]]
    services: list[ServiceRead] = []
    distance_km: float | None = Field(None, description="From the place searched near, when one was given.")
    next_free: list[SlotRead] = Field([], description="The next slots with free seats (search results).")


class SitePage(BaseModel):
    items: list[SiteRead]
    total: int
    page: int
    per_page: int


class ProductRead(BaseModel):
    code: str
    name: str
    name_en: str
    category: str
    vaccine_kind: str | None
    min_age_months: int
    max_age_months: int | None
    doses: int = Field(description="Doses of the primary series (0 for appointment kinds).")
    has_booster: bool
    slot_minutes: int


# -- profiles ------------------------------------------------------------------------------------------------


class ProfileCreate(BaseModel):
    consent: bool = Field(
        description="Consent to prefill the profile from household registration (户籍人口信息)."
    )
    phone: str = Field(min_length=11, max_length=20)
    resident_id: str | None = Field(
        None, pattern=RESIDENT_ID, description="A family member's; none: your own profile."
    )


class ProfileRead(BaseModel):
    resident_id: str
    name: str
    sex: Literal["male", "female"]
    birth_date: date
    household_no: str | None
    division_code: str
    phone: str
    source_org_name: str | None = Field(None, description="The department the values come from.")
    source_updated_at: datetime | None
    updated_at: datetime
    relation: Literal["self", "child", "parent"] = "self"


class PersonChoice(BaseModel):
    """Someone the citizen may book for, and whether their profile exists yet."""

    resident_id: str
    name: str
    relation: Literal["self", "child", "parent"]
    profile: ProfileRead | None


# -- booking -------------------------------------------------------------------------------------------------


class BookingCreate(BaseModel):
    slot_id: int
    resident_id: str | None = Field(
        None, pattern=RESIDENT_ID, description="A family member's; none: yourself."
    )
    idempotency_key: str | None = Field(
        None,
        max_length=64,
        description="Repeat it when retrying: the same key returns the same booking. The Idempotency-Key "
        "header does the same.",
    )


class RescheduleRequest(BaseModel):
    slot_id: int


class CancelRequest(BaseModel):
    reason: str = Field("", max_length=500)


class AppointmentRead(BaseModel):
    number: str
    status: AppointmentStatus
    resident_id: str
    person_name: str
    product_code: str
    product_name: str
    product_name_en: str
    dose: int
    site_code: str
    site_name: str
    site_address: str
    day: date
    starts_at: datetime
    ends_at: datetime
    created_at: datetime
    cancelled_at: datetime | None
    cancelled_by: str | None
    cancel_reason: str | None
    checked_in_at: datetime | None
    completed_at: datetime | None
    qr_payload: str | None = Field(
        None,
        description="What the booking QR encodes for check-in (only for the person, while it is booked).",
    )


class AppointmentPage(BaseModel):
    items: list[AppointmentRead]
    total: int
    page: int
    per_page: int


class WaitlistJoin(BaseModel):
    slot_id: int
    resident_id: str | None = Field(None, pattern=RESIDENT_ID)


class WaitlistRead(BaseModel):
    id: int
    slot_id: int
    resident_id: str
    status: Literal["waiting", "promoted", "withdrawn", "expired"]
    position: int = Field(description="1 for the first in line; 0 once it no longer waits.")
    appointment_number: str | None
    note: str | None
    created_at: datetime


class EligibilityRead(BaseModel):
    """What the rules say before booking: the dose that would be booked, or why not."""

    product_code: str
    day: date
    dose: int
    allowed: bool
    reason: str | None
    message: str
    params: dict[str, Any]
    earliest_on: date | None


# -- at the site ---------------------------------------------------------------------------------------------


class CheckInRequest(BaseModel):
    token: str = Field(min_length=8, max_length=200, description="What the booking QR carries.")


class AdministrationCreate(BaseModel):
    lot: str = Field(pattern=r"^[0-9A-Z]{8,12}$", description="The vaccine's lot (batch) number.")
    administered_at: datetime | None = Field(None, description="When it was given; none: now.")
    adverse_reaction: Literal["无", "一般反应", "异常反应"] = "无"


class AdministrationRead(BaseModel):
    appointment_number: str
    resident_id: str
    product_code: str
    vaccine_kind: str
    dose: int
    lot: str
    administered_at: datetime
    administered_by: str
    site_code: str
    certificate_number: str | None


class DayEntry(BaseModel):
    """One booking on a site's day list."""

    number: str
    status: AppointmentStatus
    name: str
    resident_id_masked: str
    product_code: str
    dose: int
    starts_at: datetime
    checked_in_at: datetime | None
    completed_at: datetime | None


class DayList(BaseModel):
    site_code: str
    site_name: str
    day: date
    slots: list[SlotRead]
    entries: list[DayEntry]


# -- the record lookup and statistics ------------------------------------------------------------------------


class DoseRead(BaseModel):
    vaccine_kind: str
    product: str
    manufacturer: str
    dose: int
    vaccinated_on: date
    batch_no: str
    site: str
    version: int = Field(description="The record's version in the health department's records.")
    updated_at: datetime


class RecordLookup(BaseModel):
    """随身查: the doses the health department's records hold, and the person's bookings."""

    resident_id: str
    name: str
    source: str = Field(description="The department whose records hold the doses (empty: none recorded).")
    doses: list[DoseRead]
    bookings: list[AppointmentRead]


class CertificateIssued(BaseModel):
    number: str
    doses: int
