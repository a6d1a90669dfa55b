"""Booking tables, all prefixed ``booking_``. People and organisations are referred to by id.

Sites (接种单位 and other appointment places) run by a department, the bookable services each site offers,
slot templates and the slots they generate (each with its capacity and the count of seats taken), closures,
registration profiles (建档), appointments with their idempotency keys, waitlist entries, and what was
given at the site (administrations).

Two rules are held by the database itself, so no code path can break them under a rush:

- ``booking_slot``: ``0 <= booked <= capacity``. A seat is taken by one conditional UPDATE
  (``booked = booked + 1 WHERE booked < capacity``), so two bookings never share the last seat.
- ``booking_appointment``: one active appointment (booked or checked in) per person and series (a vaccine
  kind, or one product for other appointment kinds), a partial unique index on both engines.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from zerotrip.db import Base, JSONType, UTCDateTime, new_uuid

SLOT_STATUSES = ("open", "closed")
APPOINTMENT_STATUSES = (
    "booked",  # a seat is held
    "checked_in",  # the person arrived and was checked in at the site
    "completed",  # served (a vaccination was recorded)
    "cancelled",  # by the person, or by the site (closure, capacity cut) with the reason recorded
    "no_show",  # the slot ended without a check-in
)
# The statuses that hold a seat and count as the person's one booking in a series.
ACTIVE_STATUSES = ("booked", "checked_in")
WAITLIST_STATUSES = ("waiting", "promoted", "withdrawn", "expired")
CANCELLED_BY = ("person", "site", "system")
_ACTIVE_SQL = "status IN ('booked', 'checked_in')"


class Site(Base):
    """A place people book appointments at: a vaccination site (接种单位), a testing point, a hospital, a
    registry. Run by a department (a county health bureau for vaccination sites), whose site operators
    see its day lists."""

    __tablename__ = "booking_site"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    division_code: Mapped[str] = mapped_column(String(6), nullable=False, index=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("identity_org.id"), nullable=False, index=True)
    address: Mapped[str] = mapped_column(String(200), nullable=False)
    latitude: Mapped[float] = mapped_column(Float, nullable=False)
    longitude: Mapped[float] = mapped_column(Float, nullable=False)
    phone: Mapped[str | None] = mapped_column(String(40))
    # Opening hours by weekday ("mon" … "sun"): a list of ["08:00", "11:30"] periods; no key: closed.
    opening_hours: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False)
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)

    __table_args__ = (
        CheckConstraint("latitude BETWEEN -90 AND 90 AND longitude BETWEEN -180 AND 180", name="coordinates"),
    )


class Service(Base):
    """Something a site can be booked for: a product of the catalogue (``products.py``), a vaccine with its
    dose series and intervals, or another appointment kind (nucleic-acid testing, hospital or marriage
    registration)."""

    __tablename__ = "booking_service"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("booking_site.id"), nullable=False)
    product_code: Mapped[str] = mapped_column(String(40), nullable=False, index=True)
    has_waitlist: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)

    __table_args__ = (UniqueConstraint("site_id", "product_code"),)


class SlotTemplate(Base):
    """A weekly pattern: on ``weekday`` (ISO, 1 Monday) a slot starts at ``starts_at`` (China time) for
    ``minutes`` with ``capacity`` seats, from ``valid_from`` until ``valid_until`` (inclusive)."""

    __tablename__ = "booking_slot_template"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("booking_service.id"), nullable=False, index=True)
    weekday: Mapped[int] = mapped_column(Integer, nullable=False)
    starts_at: Mapped[time] = mapped_column(Time, nullable=False)
    minutes: Mapped[int] = mapped_column(Integer, nullable=False)
    capacity: Mapped[int] = mapped_column(Integer, nullable=False)
    valid_from: Mapped[date] = mapped_column(Date, nullable=False)
    valid_until: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)

    __table_args__ = (
        CheckConstraint("weekday BETWEEN 1 AND 7", name="weekday"),
        CheckConstraint("minutes BETWEEN 5 AND 720", name="minutes"),
        CheckConstraint("capacity BETWEEN 1 AND 100000", name="capacity"),
    )


class Slot(Base):
    """A bookable time slot with ``capacity`` seats, ``booked`` of them taken. ``day`` is the slot's date in
    China (the day lists and searches go by it)."""

    __tablename__ = "booking_slot"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("booking_service.id"), nullable=False)
    site_id: Mapped[int] = mapped_column(ForeignKey("booking_site.id"), nullable=False)
    template_id: Mapped[int | None] = mapped_column(ForeignKey("booking_slot_template.id"))
    day: Mapped[date] = mapped_column(Date, nullable=False)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    capacity: Mapped[int] = mapped_column(Integer, nullable=False)
    booked: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    status: Mapped[str] = mapped_column(String(8), nullable=False, default="open")
    closed_reason: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint("service_id", "starts_at"),
        Index("ix_booking_slot_site_day", "site_id", "day"),
        Index("ix_booking_slot_day_service", "day", "service_id"),
        CheckConstraint("booked >= 0 AND booked <= capacity", name="seats"),
        CheckConstraint("capacity >= 0", name="capacity"),
        CheckConstraint("ends_at > starts_at", name="period"),
        CheckConstraint(f"status IN {SLOT_STATUSES!r}", name="status"),
    )


class Closure(Base):
    """A site (or one of its services) closed from ``first_day`` to ``last_day``: its slots in the period
    are closed, their bookings cancelled with the reason and the people told, and templates generate no
    slots there."""

    __tablename__ = "booking_closure"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("booking_site.id"), nullable=False, index=True)
    service_id: Mapped[int | None] = mapped_column(ForeignKey("booking_service.id"))
    first_day: Mapped[date] = mapped_column(Date, nullable=False)
    last_day: Mapped[date] = mapped_column(Date, nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    closed_by: Mapped[str] = mapped_column(String(120), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)

    __table_args__ = (CheckConstraint("last_day >= first_day", name="period"),)


class Profile(Base):
    """A person's registration profile (建档): prefilled from household registration read through the
    datahub gateway with consent, plus a contact phone. Made by the person, or by a family member the
    household data lets book for them (a parent for a minor child, a child for an elderly parent)."""

    __tablename__ = "booking_profile"

    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("identity_person.id"), primary_key=True)
    resident_id: Mapped[str] = mapped_column(String(18), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(60), nullable=False)
    sex: Mapped[str] = mapped_column(String(6), nullable=False)
    birth_date: Mapped[date] = mapped_column(Date, nullable=False)
    household_no: Mapped[str | None] = mapped_column(String(20))
    division_code: Mapped[str] = mapped_column(String(6), nullable=False)
    phone: Mapped[str] = mapped_column(String(20), nullable=False)
    # Provenance of the prefilled values: the department that holds them and when it last changed them.
    source_org_name: Mapped[str | None] = mapped_column(String(120))
    source_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    consented_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    created_by_person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("identity_person.id"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)

    __table_args__ = (CheckConstraint("sex IN ('male', 'female')", name="sex"),)


class Appointment(Base):
    """A booking of one seat in one slot for one person. ``number`` is what people see and say;
    ``qr_token`` is what the booking QR carries for check-in (secret, never shown as text)."""

    __tablename__ = "booking_appointment"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    number: Mapped[str] = mapped_column(String(16), nullable=False, unique=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("booking_slot.id"), nullable=False)
    service_id: Mapped[int] = mapped_column(ForeignKey("booking_service.id"), nullable=False)
    site_id: Mapped[int] = mapped_column(ForeignKey("booking_site.id"), nullable=False)
    day: Mapped[date] = mapped_column(Date, nullable=False)
    # The person who is served, and the one who booked (the same, or a family member).
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("identity_person.id"), nullable=False)
    booked_by_person_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("identity_person.id"), nullable=False, index=True
    )
    resident_id: Mapped[str] = mapped_column(String(18), nullable=False)
    product_code: Mapped[str] = mapped_column(String(40), nullable=False)
    # What "one active booking per person" counts in: the vaccine kind, or the product for other kinds.
    series: Mapped[str] = mapped_column(String(80), nullable=False)
    # The dose booked (1 for appointment kinds, which have no doses).
    dose: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[str] = mapped_column(String(12), nullable=False)
    qr_token: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_by: Mapped[str | None] = mapped_column(String(8))
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    checked_in_by: Mapped[str | None] = mapped_column(String(120))
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    rescheduled_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)

    __table_args__ = (
        Index(
            "uq_booking_appointment_one_active",
            "person_id",
            "series",
            unique=True,
            sqlite_where=text(_ACTIVE_SQL),
            postgresql_where=text(_ACTIVE_SQL),
        ),
        Index("ix_booking_appointment_person", "person_id", "created_at"),
        Index("ix_booking_appointment_slot_status", "slot_id", "status"),
        Index("ix_booking_appointment_site_day", "site_id", "day"),
        Index("ix_booking_appointment_day_status", "day", "status"),
        CheckConstraint(f"status IN {APPOINTMENT_STATUSES!r}", name="status"),
        CheckConstraint(f"cancelled_by IS NULL OR cancelled_by IN {CANCELLED_BY!r}", name="cancelled_by"),
        CheckConstraint("dose >= 1", name="dose"),
    )


class IdempotencyKey(Base):
    """A booking request's idempotency key, unique per person who booked: a retried request with the same
    key returns the booking the first one made. Only successful bookings keep their key (a refused
    attempt's transaction is rolled back), so a retry after a refusal tries again."""

    __tablename__ = "booking_idempotency_key"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("identity_person.id"), nullable=False)
    key: Mapped[str] = mapped_column(String(64), nullable=False)
    # The request the key was first used for (slot and person booked for), so a reused key is refused.
    request_digest: Mapped[str] = mapped_column(String(64), nullable=False)
    appointment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("booking_appointment.id"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)

    __table_args__ = (UniqueConstraint("person_id", "key"),)


class WaitlistEntry(Base):
    """A person waiting for a seat in a full slot. When a seat frees up (a cancellation, a reschedule, a
    capacity increase) the oldest waiting entry still eligible is booked into it in the same transaction,
    so a freed seat is never up for grabs while someone waits."""

    __tablename__ = "booking_waitlist_entry"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("booking_slot.id"), nullable=False)
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("identity_person.id"), nullable=False)
    booked_by_person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("identity_person.id"), nullable=False)
    series: Mapped[str] = mapped_column(String(80), nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False)
    appointment_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("booking_appointment.id"))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)

    __table_args__ = (
        Index("ix_booking_waitlist_entry_slot_status", "slot_id", "status", "id"),
        Index(
            "uq_booking_waitlist_entry_one_waiting",
            "slot_id",
            "person_id",
            unique=True,
            sqlite_where=text("status = 'waiting'"),
            postgresql_where=text("status = 'waiting'"),
        ),
        Index("ix_booking_waitlist_entry_person", "person_id"),
        CheckConstraint(f"status IN {WAITLIST_STATUSES!r}", name="status"),
    )


class Administration(Base):
    """A vaccination given at a site (接种登记): product, lot, dose, time and the operator. It is also
    pushed to the health department's vaccination records in datahub as a new version of the person's
    record, which is what the record lookup and the certificate read."""

    __tablename__ = "booking_administration"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    appointment_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("booking_appointment.id"), nullable=False, unique=True
    )
    site_id: Mapped[int] = mapped_column(ForeignKey("booking_site.id"), nullable=False)
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("identity_person.id"), nullable=False)
    resident_id: Mapped[str] = mapped_column(String(18), nullable=False)
    product_code: Mapped[str] = mapped_column(String(40), nullable=False)
    vaccine_kind: Mapped[str] = mapped_column(String(40), nullable=False)
    dose: Mapped[int] = mapped_column(Integer, nullable=False)
    lot: Mapped[str] = mapped_column(String(16), nullable=False)
    administered_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    administered_by: Mapped[str] = mapped_column(String(120), nullable=False)
    division_code: Mapped[str] = mapped_column(String(6), nullable=False, index=True)
    certificate_number: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)

    __table_args__ = (CheckConstraint("dose >= 1", name="dose"),)
