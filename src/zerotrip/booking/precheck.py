"""A booking attempt's first look: the refusals that need no personal data and no lock, said at once.

A slot that is missing, closed, started, too far ahead or full is refused before the write transaction
(on SQLite, before the writer lock) and before anyone's data is read, so a rush on a full slot costs one
short read per attempt. ``book_appointment`` checks the same again inside its transaction, where the
conditional seat UPDATE has the last word. A retried request (an idempotency key the person used before)
is let through, to be answered with its booking, whatever the slot's state now.

The API's booking route reads the caller's session and the slot in one statement
(``precheck_with_session``: ``identity.auth.session_lookup`` with the slot, its service and site, and the
key outer-joined); edges that resolved the caller already use ``precheck_booking``. Both are prebuilt
statements run on the session's connection, returning columns, no ORM objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, bindparam, literal, select
from sqlalchemy.orm import Session

from zerotrip.booking.errors import SlotFull, SlotNotBookable, SlotNotFound
from zerotrip.booking.models import IdempotencyKey, Service, Site, Slot
from zerotrip.common import clock
from zerotrip.config import BookingSettings
from zerotrip.identity.actor import Actor
from zerotrip.identity.auth import ResolvedSession, session_from_row, session_lookup
from zerotrip.identity.models import Account
from zerotrip.identity.secrets import token_hash
from zerotrip.problems import Problem


@dataclass(frozen=True)
class SlotState:
    """What decides whether a slot may be booked now, as one row gives it."""

    status: str
    is_active: bool  # the slot's service and site both
    starts_at: datetime
    day: date
    booked: int
    capacity: int
    has_waitlist: bool


def check_open(state: SlotState, *, days_ahead: int, now: datetime | None = None) -> None:
    """Raises SlotNotBookable unless the slot is open, at an active site and service, not yet started, and
    within ``days_ahead`` days (today counts)."""
    now = now or clock.now()
    if state.status != "open" or not state.is_active:
        raise SlotNotBookable("the slot is closed", reason="closed")
    if state.starts_at <= now:
        raise SlotNotBookable("the slot has already started", reason="started")
    last_day = now.astimezone(clock.CHINA).date().toordinal() + days_ahead - 1
    if state.day.toordinal() > last_day:
        raise SlotNotBookable(f"slots may be booked at most {days_ahead} days ahead", reason="too_far_ahead")


def refuse_unbookable(state: SlotState | None, *, settings: BookingSettings) -> None:
    """Raises SlotNotFound (no state), SlotNotBookable, SlotFull."""
    if state is None:
        raise SlotNotFound()
    check_open(state, days_ahead=settings.days_ahead)
    if state.booked >= state.capacity:
        raise SlotFull("every seat of this slot is taken", waitlist=state.has_waitlist)


_SLOT_COLUMNS = (
    Slot.id,
    Slot.status,
    Service.is_active,
    Site.is_active,
    Slot.starts_at,
    Slot.day,
    Slot.booked,
    Slot.capacity,
    Service.has_waitlist,
)
# Whether the person (bind ``person_id``) used the idempotency key (bind ``key``) before.
_KEY_USED = (
    select(literal(1))
    .where(IdempotencyKey.person_id == bindparam("person_id"), IdempotencyKey.key == bindparam("key"))
    .exists()
)
_SLOT_AND_KEY = (
    select(*_SLOT_COLUMNS, _KEY_USED)
    .join(Service, Service.id == Slot.service_id)
    .join(Site, Site.id == Slot.site_id)
    .where(Slot.id == bindparam("slot_id"))
)
_SESSION_SLOT_AND_KEY = session_lookup(
    *_SLOT_COLUMNS,
    IdempotencyKey.id,
    joined=lambda statement: (
        statement.outerjoin(Slot, Slot.id == bindparam("slot_id"))
        .outerjoin(Service, Service.id == Slot.service_id)
        .outerjoin(Site, Site.id == Slot.site_id)
        .outerjoin(
            IdempotencyKey,
            and_(IdempotencyKey.person_id == Account.person_id, IdempotencyKey.key == bindparam("key")),
        )
    ),
)


def _state(columns: Any) -> SlotState | None:
    slot_id, status, service_active, site_active, starts_at, day, booked, capacity, has_waitlist = columns
    if slot_id is None:
        return None
    return SlotState(
        status=status,
        is_active=bool(service_active and site_active),
        starts_at=starts_at,
        day=day,
        booked=booked,
        capacity=capacity,
        has_waitlist=bool(has_waitlist),
    )


def _clean_key(idempotency_key: str | None) -> str | None:
    return idempotency_key.strip() if idempotency_key is not None else None


def precheck_booking(
    db: Session, *, actor: Actor, slot_id: int, settings: BookingSettings, idempotency_key: str | None = None
) -> None:
    """The slot's own refusals for a resolved caller, in one statement. Raises SlotNotFound,
    SlotNotBookable, SlotFull (never for a retried request)."""
    person_id = actor.person_id if actor.kind == "citizen" else None
    key = _clean_key(idempotency_key)
    db.flush()  # the statement runs on the connection, which does not autoflush as an ORM query would
    row = (
        db.connection()
        .execute(
            _SLOT_AND_KEY, {"slot_id": slot_id, "person_id": person_id, "key": key if person_id else None}
        )
        .first()
    )
    if row is not None and row[-1]:
        return
    refuse_unbookable(_state(row[:9]) if row is not None else None, settings=settings)


def precheck_with_session(
    db: Session, *, token: str, slot_id: int, settings: BookingSettings, idempotency_key: str | None = None
) -> tuple[ResolvedSession | None, Problem | None]:
    """The session cookie's caller and the slot's refusal for them, in one statement. Returns the resolved
    session (None: unknown, expired) and the refusal to raise once the caller is known to be signed in
    (SlotNotFound, SlotNotBookable, SlotFull; None for a bookable slot or a retried request): the edge checks
    the caller (and its CSRF token) first, so an anonymous caller learns nothing about the slot."""
    db.flush()
    row = (
        db.connection()
        .execute(
            _SESSION_SLOT_AND_KEY,
            {"session_hash": token_hash(token), "slot_id": slot_id, "key": _clean_key(idempotency_key)},
        )
        .first()
    )
    resolved = session_from_row(db, row)
    if row is None or resolved is None or row[-1] is not None:
        return resolved, None
    try:
        refuse_unbookable(_state(row[8:17]), settings=settings)
    except (SlotNotFound, SlotNotBookable, SlotFull) as refusal:
        return resolved, refusal
    return resolved, None
