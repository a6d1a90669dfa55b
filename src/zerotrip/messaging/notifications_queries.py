"""Reading a citizen's notifications and preferences. Each read checks that the actor is the person."""

from __future__ import annotations

import uuid
from collections import defaultdict

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from zerotrip.identity import queries as identity_queries
from zerotrip.identity.actor import Actor
from zerotrip.messaging.errors_notifications import NotificationNotFound
from zerotrip.messaging.models_notifications import Delivery, InboxEntry, Notification, Preference
from zerotrip.messaging.notifications_templates import DEFAULT_LANGUAGE, KINDS, get_template
from zerotrip.messaging.schemas_notifications import (
    DeliveryRead,
    NotificationPage,
    NotificationRead,
    PreferencesRead,
)

CHANNEL_ORDER = {"inbox": 0, "email": 1, "sms": 2}


def unread_count(db: Session, *, actor: Actor) -> int:
    """How many notifications in the signed-in citizen's inbox are unread. Raises NotYourRecord for anyone
    but a citizen."""
    return _unread(db, identity_queries.get_own_person(db, actor).id)


def unread_for_header(db: Session, actor: Actor) -> int | None:
    """The unread count every page's header shows a signed-in citizen (one indexed count); None for
    anyone else."""
    if actor.kind != "citizen" or actor.person_id is None:
        return None
    return _unread(db, actor.person_id)


def _unread(db: Session, person_id: uuid.UUID) -> int:
    return int(
        db.scalar(
            select(func.count())
            .select_from(InboxEntry)
            .where(InboxEntry.person_id == person_id, InboxEntry.read_at.is_(None))
        )
        or 0
    )


def list_inbox(
    db: Session,
    *,
    actor: Actor,
    language: str = DEFAULT_LANGUAGE,
    unread_only: bool = False,
    page: int = 1,
    per_page: int = 20,
) -> NotificationPage:
    """The signed-in citizen's inbox, newest first, each notification written in ``language`` (the page's
    language, whatever the person's language for e-mail). Raises NotYourRecord for anyone but a citizen."""
    person = identity_queries.get_own_person(db, actor)
    where = [InboxEntry.person_id == person.id]
    if unread_only:
        where.append(InboxEntry.read_at.is_(None))
    total = int(db.scalar(select(func.count()).select_from(InboxEntry).where(*where)) or 0)
    rows = db.execute(
        select(InboxEntry, Notification)
        .join(Notification, Notification.id == InboxEntry.notification_id)
        .where(*where)
        .order_by(InboxEntry.delivered_at.desc(), InboxEntry.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    return NotificationPage(
        items=[_item(entry, notification, language, []) for entry, notification in rows],
        total=total,
        unread=_unread(db, person.id),
        page=page,
        per_page=per_page,
    )


def get_inbox_item(
    db: Session, *, actor: Actor, notification_id: uuid.UUID, language: str = DEFAULT_LANGUAGE
) -> NotificationRead:
    """One notification of the signed-in citizen's inbox with its deliveries on every channel. Raises
    NotYourRecord for anyone but a citizen, NotificationNotFound."""
    person = identity_queries.get_own_person(db, actor)
    row = db.execute(
        select(InboxEntry, Notification)
        .join(Notification, Notification.id == InboxEntry.notification_id)
        .where(InboxEntry.notification_id == notification_id, InboxEntry.person_id == person.id)
    ).first()
    if row is None:
        raise NotificationNotFound()
    entry, notification = row
    deliveries = deliveries_of(db, [notification.id])[notification.id]
    return _item(entry, notification, language, deliveries)


def deliveries_of(db: Session, notification_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[DeliveryRead]]:
    """Each notification's deliveries, in channel order (inbox, e-mail, SMS)."""
    found: dict[uuid.UUID, list[DeliveryRead]] = defaultdict(list)
    for d in db.scalars(select(Delivery).where(Delivery.notification_id.in_(notification_ids))):
        found[d.notification_id].append(
            DeliveryRead(
                channel=d.channel,
                status=d.status,
                attempts=d.attempts,
                sent_at=d.sent_at,
                is_confirmed=d.is_confirmed,
                last_error=d.last_error,
                address=mask_address(d.channel, d.address),
            )
        )
    for reads in found.values():
        reads.sort(key=lambda r: CHANNEL_ORDER[r.channel])
    return found


def _item(
    entry: InboxEntry, notification: Notification, language: str, deliveries: list[DeliveryRead]
) -> NotificationRead:
    rendered = get_template(notification.template).render(notification.params, language)
    return NotificationRead(
        id=notification.id,
        kind=notification.kind,
        template=notification.template,
        subject=rendered.subject,
        body=rendered.body,
        link=notification.link,
        delivered_at=entry.delivered_at,
        read_at=entry.read_at,
        deliveries=deliveries,
    )


def get_preferences(db: Session, *, actor: Actor) -> PreferencesRead:
    """The signed-in citizen's notification settings, with each kind's channels filled in from the
    defaults where the person has not chosen. Raises NotYourRecord for anyone but a citizen."""
    person = identity_queries.get_own_person(db, actor)
    preference = db.get(Preference, person.id)
    defaults = {key: sorted(kind.default_channels) for key, kind in KINDS.items()}
    chosen = preference.channels if preference is not None else {}
    return PreferencesRead(
        language=preference.language if preference is not None else DEFAULT_LANGUAGE,
        email=preference.email if preference is not None else None,
        phone=preference.phone if preference is not None else None,
        registered_phone=person.phone,
        channels={key: sorted(chosen.get(key, default)) for key, default in defaults.items()},
        defaults=defaults,
    )


def mask_address(channel: str, address: str | None) -> str | None:
    """``a***@example.com``, ``138****8000``: enough for the person to recognise, not to copy."""
    if address is None:
        return None
    if channel == "email" and "@" in address:
        local, domain = address.split("@", 1)
        return f"{local[:1]}***@{domain}"
    if len(address) >= 7:
        return f"{address[:3]}****{address[-4:]}"
    return "****"
