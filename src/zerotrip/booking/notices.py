"""What booking tells people, in one place: the only function here is the one every notice goes through.

Notices are written in the transaction of the change that causes them (a booking, a cancellation by the
site, a promotion from the waitlist, the day-before reminder), so a person is told exactly when the change
is committed; delivery happens after the commit, through the messaging outbox. Each notice carries a dedupe
key naming the event, so telling twice about one event tells once.

The confirmation's calendar file is not attached to the message: the notice links to the booking, whose
iCalendar file (``/api/booking/appointments/{number}/ical``) is always current, also after a reschedule.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from zerotrip.audit.actions import record_event
from zerotrip.booking.models import Appointment
from zerotrip.booking.seats import Place
from zerotrip.common import clock

# The events booking tells people about (the messaging templates' keys are ``booking.<event>``).
EVENTS = (
    "booked",  # confirmation, with the booking's calendar file
    "promoted",  # a waitlisted person got a seat
    "rescheduled",
    "cancelled",  # by the person (a receipt)
    "cancelled_by_site",  # a closure or a capacity cut: the reason, and to book again
    "reminder",  # the day before
    "recorded",  # a dose was recorded; the record lookup and the certificate reflect it
)
NOTICE_QUEUED = "booking.notice.queued"


@dataclass(frozen=True)
class Notice:
    person_id: uuid.UUID
    event: str
    params: dict[str, Any]
    link: str
    dedupe_key: str


def tell(db: Session, notice: Notice) -> None:
    """Queue ``notice`` for its person in the caller's transaction.

    Until messaging's outbox is on main, the notice is kept as an audit event naming the person, the event,
    its values and its dedupe key, which is what the outbox will be given; this function is the one place
    to change when it lands.
    """
    if notice.event not in EVENTS:
        raise ValueError(f"booking does not tell people about {notice.event!r}")
    record_event(
        db,
        actor="system:booking",
        action=NOTICE_QUEUED,
        subject_type="person",
        subject_id=str(notice.person_id),
        data={
            "event": notice.event,
            "template": f"booking.{notice.event}",
            "params": notice.params,
            "link": notice.link,
            "dedupe_key": notice.dedupe_key,
        },
    )


def link_of(appointment: Appointment) -> str:
    """Where a person sees the booking (and its calendar file, at ``/ical`` under the API's path)."""
    return f"/booking/appointments/{appointment.number}"


def notice_for(appointment: Appointment, place: Place, event: str, **extra: object) -> Notice:
    """The notice of ``event`` about an appointment at ``place``, to the person who booked it."""
    starts = place.slot.starts_at.astimezone(clock.CHINA)
    return Notice(
        person_id=appointment.booked_by_person_id,
        event=event,
        params={
            "number": appointment.number,
            "site_name": place.site.name,
            "site_address": place.site.address,
            "product_name": place.product.name,
            "product_name_en": place.product.name_en,
            "dose": appointment.dose,
            "starts_at": starts.strftime("%Y-%m-%d %H:%M"),
            **extra,
        },
        link=link_of(appointment),
        dedupe_key=f"booking:{event}:{appointment.number}:{appointment.rescheduled_count}:{place.slot.id}",
    )
