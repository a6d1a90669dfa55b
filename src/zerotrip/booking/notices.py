"""What booking tells people, in one place: every notice goes through ``tell``.

Notices are written in the transaction of the change that causes them (a booking, a cancellation by the
site, a promotion from the waitlist, the day-before reminder), through messaging's outbox
(``messaging.actions.notify``), so a person is told exactly when the change is committed, and delivery
(the in-app inbox, SMS, e-mail by the person's preferences) happens after the commit. Each notice carries a
dedupe key naming the event, so telling twice about one event tells once. The texts are messaging's
templates ``booking.*`` (``messaging/notifications_templates.py``), in Chinese and English.

The confirmation's calendar file is not attached to the message: the notice links to the booking, whose
iCalendar file (``/api/booking/appointments/{number}/ical``) is always current, also after a reschedule.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from zerotrip.booking.models import Appointment
from zerotrip.booking.seats import Place
from zerotrip.common import clock
from zerotrip.messaging import actions as messaging_actions

# The events booking tells people about, and the messaging template of each.
TEMPLATES = {
    "booked": "booking.appointment.booked",  # confirmation, with the booking's calendar file
    "promoted": "booking.appointment.promoted",  # a waitlisted person got a seat
    "rescheduled": "booking.appointment.rescheduled",
    "cancelled": "booking.appointment.cancelled",  # by the person (a receipt)
    "cancelled_by_site": "booking.appointment.cancelled_by_site",  # a closure or capacity cut: why
    "reminder": "booking.appointment.reminder",  # the day before
    "recorded": "booking.vaccination.recorded",  # the record lookup and the certificate reflect it
}
EVENTS = tuple(TEMPLATES)


@dataclass(frozen=True)
class Notice:
    person_id: uuid.UUID
    event: str
    params: dict[str, Any]
    link: str
    dedupe_key: str


def tell(db: Session, notice: Notice) -> None:
    """Queue ``notice`` for its person in the caller's transaction, through messaging's outbox."""
    template = TEMPLATES.get(notice.event)
    if template is None:
        raise ValueError(f"booking does not tell people about {notice.event!r}")
    messaging_actions.notify(
        db,
        template=template,
        params=notice.params,
        dedupe_key=notice.dedupe_key,
        person_id=notice.person_id,
        link=notice.link,
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
