"""Telling the applicant what happened to their application: where the services context hands its events
to messaging's notifications (inbox, e-mail, SMS through the outbox, sent after the commit).

``tell_applicant`` is called, inside the transaction of the change, by every workflow action the applicant
must hear about: acceptance, a supplement request, approval and refusal by staff. It is the one place that
plugs into ``zerotrip.messaging``'s ``notify`` once that is on main; until then it writes nothing, and the
applicant learns of the change from the status page and the audit log (docs/services.md says so).
"""

from __future__ import annotations

from typing import Literal

from sqlalchemy.orm import Session

from zerotrip.services.models import Application, Item

ApplicantEvent = Literal["accepted", "supplement", "approved", "refused"]


def tell_applicant(
    db: Session, application: Application, item: Item, *, event: ApplicantEvent, reason: str | None = None
) -> None:
    """Notify the person who filed ``application`` of ``event`` (template ``services.application.EVENT``,
    with the number, the item's names and ``reason``), deduplicated on the application's number, the event
    and its transition count. Not yet connected: see the module's docstring."""
    del db, application, item, event, reason
