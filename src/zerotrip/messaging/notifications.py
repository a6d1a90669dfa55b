"""Telling citizens what happened: writing notifications into the outbox, and the person's own changes
(reading, preferences). Never commits.

``notify`` and ``notify_many`` are called by other contexts (through ``messaging.actions``) inside the
transaction of the change they tell about, so a notification exists exactly when its event does. They
write the notification and one outbox row (a delivery) per channel: the in-app inbox always, e-mail and
SMS when the person's preferences for the event's kind (or the kind's defaults) ask for them and the
person has given an address. Workers send the deliveries after the commit (``messaging.worker``).
Nothing here checks an actor: the calling context has authorised the change that causes the
notification, and the notification only ever reaches the person it is about.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session

from zerotrip.audit.actions import record_event
from zerotrip.bulk import insert_many
from zerotrip.common import clock
from zerotrip.identity import queries as identity_queries
from zerotrip.identity.actor import Actor
from zerotrip.identity.models import Person
from zerotrip.messaging.errors_notifications import NotificationNotFound, RecipientNotFound
from zerotrip.messaging.models_notifications import Delivery, InboxEntry, Notification, Preference
from zerotrip.messaging.notifications_templates import (
    DEFAULT_LANGUAGE,
    KINDS,
    LANGUAGES,
    OPTIONAL_CHANNELS,
    get_template,
)
from zerotrip.messaging.schemas_notifications import NotificationRequest
from zerotrip.problems import FieldError, ValidationFailed

PREFERENCES_CHANGED = "messaging.preferences.changed"
_NOTIFICATIONS = cast(Table, Notification.__table__)
_DELIVERIES = cast(Table, Delivery.__table__)
# Addresses go into mail headers: one address, no spaces, quotes or line breaks.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_EMAIL = re.compile(rf"^[A-Za-z0-9.!#$%&'*+/=?^_`{{|}}~-]{{1,64}}@{_LABEL}(?:\.{_LABEL})+$")
# Mainland mobile numbers (11 digits from 13x to 19x), written with or without +86.
_MOBILE = re.compile(r"^1[3-9][0-9]{9}$")
_LINK = re.compile(r"^/[A-Za-z0-9\-._~/%?=&]*$")
# Which of some people are registered, each with their preferences (or None), in one statement.
_PEOPLE_AND_PREFERENCES = (
    select(Person.id, Preference)
    .outerjoin(Preference, Preference.person_id == Person.id)
    .where(Person.id.in_(bindparam("ids", expanding=True)))
)
_IN_CHUNK = 500


def notify(
    db: Session,
    *,
    template: str,
    params: Mapping[str, Any],
    dedupe_key: str,
    person_id: uuid.UUID | None = None,
    account_id: uuid.UUID | None = None,
    resident_id: str | None = None,
    uscc: str | None = None,
    link: str | None = None,
) -> uuid.UUID:
    """Tell one person about one event; returns the notification's id (the earlier one when
    ``dedupe_key`` was used before, in which case nothing new is written). See ``notify_many``."""
    request = NotificationRequest(
        template=template,
        params=params,
        dedupe_key=dedupe_key,
        person_id=person_id,
        account_id=account_id,
        resident_id=resident_id,
        uscc=uscc,
        link=link,
    )
    return notify_many(db, [request])[0]


def notify_many(db: Session, requests: Sequence[NotificationRequest]) -> list[uuid.UUID]:
    """Write the notifications and their deliveries in the caller's transaction, in a few statements
    whatever their number; returns their ids in request order.

    A ``dedupe_key`` already stored (or repeated in ``requests``) writes nothing and gives the stored
    notification's id, so an event told twice (a retried task, a second call) is told once. Raises
    RecipientNotFound for a recipient who is not registered; LookupError for an unknown template and
    ValueError for missing params, a bad link or not exactly one recipient (a caller's mistakes).
    """
    if not requests:
        return []
    for request in requests:
        _check_request(request)
    db.flush()  # the caller's pending rows (a person just registered) must be there for the foreign keys
    people, preferences = _recipients(db, requests)
    now = clock.now()
    rows: dict[str, dict[str, Any]] = {}
    for request, person_id in zip(requests, people, strict=True):
        if request.dedupe_key in rows:
            continue
        preference = preferences.get(person_id)
        rows[request.dedupe_key] = {
            "id": uuid.uuid4(),
            "person_id": person_id,
            "kind": get_template(request.template).kind,
            "template": request.template,
            "params": dict(request.params),
            "link": request.link,
            "language": preference.language if preference else DEFAULT_LANGUAGE,
            "dedupe_key": request.dedupe_key,
            "created_at": now,
        }
    written = list(rows.values())
    stored = {key: row["id"] for key, row in rows.items()}
    if insert_many(db, _NOTIFICATIONS, written, skip_conflicts=True) < len(written):
        # Some keys were used before (or by a transaction that committed meanwhile): the ids stored under
        # the keys tell which rows are the ones just written.
        keys = list(rows)
        for start in range(0, len(keys), _IN_CHUNK):
            rows_found = db.execute(
                select(Notification.dedupe_key, Notification.id).where(
                    Notification.dedupe_key.in_(keys[start : start + _IN_CHUNK])
                )
            )
            stored.update((key, notification_id) for key, notification_id in rows_found)
    deliveries = [
        _delivery(row["id"], channel, address, now)
        for row in written
        if stored[row["dedupe_key"]] == row["id"]
        for channel, address in channels_for(preferences.get(row["person_id"]), row["kind"])
    ]
    insert_many(db, _DELIVERIES, deliveries)
    return [stored[request.dedupe_key] for request in requests]


def channels_for(preference: Preference | None, kind: str) -> list[tuple[str, str | None]]:
    """The channels and addresses a notification of ``kind`` goes to: the inbox always, then e-mail and
    SMS when chosen (or the kind's default) and the person gave an address."""
    chosen = (
        set(preference.channels[kind])
        if preference is not None and kind in preference.channels
        else KINDS[kind].default_channels
    )
    found: list[tuple[str, str | None]] = [("inbox", None)]
    if preference is not None:
        if "email" in chosen and preference.email:
            found.append(("email", preference.email))
        if "sms" in chosen and preference.phone:
            found.append(("sms", preference.phone))
    return found


def _delivery(notification_id: uuid.UUID, channel: str, address: str | None, now: Any) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "notification_id": notification_id,
        "channel": channel,
        "address": address,
        "status": "pending",
        "attempts": 0,
        "due_at": now,
        "claimed_by": None,
        "last_error": None,
        "sent_at": None,
        "is_confirmed": None,
        "provider_ref": None,
        "created_at": now,
        "updated_at": now,
    }


def _check_request(request: NotificationRequest) -> None:
    named = [
        v for v in (request.person_id, request.account_id, request.resident_id, request.uscc) if v is not None
    ]
    if len(named) != 1:
        raise ValueError("name the recipient exactly one way: person_id, account_id, resident_id or uscc")
    template = get_template(request.template)
    missing = template.required_params - set(request.params)
    if missing:
        raise ValueError(f"{request.template} needs params {sorted(missing)}")
    if not request.dedupe_key or len(request.dedupe_key) > 200:
        raise ValueError("dedupe_key names the event in 1 to 200 characters")
    if request.link is not None and (len(request.link) > 300 or not _LINK.fullmatch(request.link)):
        raise ValueError("link is a path on the platform, such as /me/applications")


def _recipients(
    db: Session, requests: Sequence[NotificationRequest]
) -> tuple[list[uuid.UUID], dict[uuid.UUID, Preference]]:
    """Each request's person id, and the preferences of those who set any: a statement per way of naming
    people other than by person id, then one (per 500 people) that finds who is registered with their
    preferences. Raises RecipientNotFound."""
    by_resident = identity_queries.person_ids_by_resident_id(
        db, [r.resident_id for r in requests if r.resident_id is not None]
    )
    by_uscc = identity_queries.representative_ids_by_uscc(
        db, [r.uscc for r in requests if r.uscc is not None]
    )
    by_account: dict[uuid.UUID, uuid.UUID | None] = {
        account_id: identity_queries.find_citizen_person_id(db, account_id)
        for account_id in {r.account_id for r in requests if r.account_id is not None}
    }
    found: list[uuid.UUID | None] = []
    for r in requests:
        if r.person_id is not None:
            found.append(r.person_id)
        elif r.account_id is not None:
            found.append(by_account.get(r.account_id))
        elif r.resident_id is not None:
            found.append(by_resident.get(r.resident_id.upper()))
        else:
            found.append(by_uscc.get((r.uscc or "").upper()))
    wanted = sorted({p for p in found if p is not None})
    registered: set[uuid.UUID] = set()
    preferences: dict[uuid.UUID, Preference] = {}
    for start in range(0, len(wanted), _IN_CHUNK):
        for person_id, preference in db.execute(
            _PEOPLE_AND_PREFERENCES, {"ids": wanted[start : start + _IN_CHUNK]}
        ):
            registered.add(person_id)
            if preference is not None:
                preferences[person_id] = preference
    people: list[uuid.UUID] = []
    for r, maybe in zip(requests, found, strict=True):
        if maybe is None or maybe not in registered:
            raise RecipientNotFound(f"no registered person for the notification {r.dedupe_key}")
        people.append(maybe)
    return people, preferences


# -- the person's own changes ------------------------------------------------------------------------------


def mark_read(db: Session, *, actor: Actor, notification_id: uuid.UUID) -> InboxEntry:
    """Mark one notification in the signed-in citizen's inbox as read (again is fine). Raises
    NotYourRecord for anyone but a citizen, NotificationNotFound."""
    person = identity_queries.get_own_person(db, actor)
    entry = db.scalar(
        select(InboxEntry).where(
            InboxEntry.notification_id == notification_id, InboxEntry.person_id == person.id
        )
    )
    if entry is None:
        raise NotificationNotFound()
    if entry.read_at is None:
        entry.read_at = clock.now()
    return entry


def mark_all_read(db: Session, *, actor: Actor) -> int:
    """Mark everything in the signed-in citizen's inbox as read; returns how many were unread. Raises
    NotYourRecord for anyone but a citizen."""
    person = identity_queries.get_own_person(db, actor)
    result = db.execute(
        update(InboxEntry)
        .where(InboxEntry.person_id == person.id, InboxEntry.read_at.is_(None))
        .values(read_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def set_preferences(
    db: Session,
    *,
    actor: Actor,
    language: str,
    email: str | None,
    phone: str | None,
    channels: Mapping[str, Sequence[str]],
) -> Preference:
    """Set the signed-in citizen's language, e-mail address, mobile number and, per kind of event, the
    channels besides the inbox (kinds left out keep their choice). An empty address turns its channel off
    for every kind. The change is audited without the addresses themselves.

    Raises NotYourRecord for anyone but a citizen, ValidationFailed (``#/email``, ``#/phone``,
    ``#/language``, ``#/channels/<kind>``).
    """
    person = identity_queries.get_own_person(db, actor)
    errors: list[FieldError] = []
    if language not in LANGUAGES:
        errors.append({"detail": f"choose one of {', '.join(LANGUAGES)}", "pointer": "#/language"})
    clean_email = (email or "").strip() or None
    if clean_email is not None and (len(clean_email) > 254 or not _EMAIL.fullmatch(clean_email)):
        errors.append({"detail": "not an e-mail address", "pointer": "#/email"})
    clean_phone = normalise_mobile(phone)
    if phone and phone.strip() and clean_phone is None:
        errors.append(
            {"detail": "not a mainland mobile number (11 digits, 13x to 19x)", "pointer": "#/phone"}
        )
    for kind, chosen in channels.items():
        if kind not in KINDS:
            errors.append({"detail": "no such kind of notification", "pointer": f"#/channels/{kind}"})
        elif not set(chosen) <= set(OPTIONAL_CHANNELS):
            errors.append({"detail": "choose among email and sms", "pointer": f"#/channels/{kind}"})
    if errors:
        raise ValidationFailed("check the notification settings", errors=errors)
    preference = db.get(Preference, person.id)
    if preference is None:
        preference = Preference(person_id=person.id, channels={}, language=DEFAULT_LANGUAGE)
        db.add(preference)
    changed = sorted(
        name
        for name, old, new in (
            ("language", preference.language, language),
            ("email", preference.email, clean_email),
            ("phone", preference.phone, clean_phone),
        )
        if old != new
    )
    merged = {**preference.channels, **{k: sorted(set(v)) for k, v in channels.items()}}
    if merged != preference.channels:
        changed.append("channels")
    preference.language = language
    preference.email = clean_email
    preference.phone = clean_phone
    preference.channels = merged
    preference.updated_at = clock.now()
    if changed:
        record_event(
            db,
            actor=actor.principal,
            action=PREFERENCES_CHANGED,
            subject_type="person",
            subject_id=person.resident_id,
            data={"changed": changed},
        )
    return preference


def normalise_mobile(text: str | None) -> str | None:
    """``138 0013 8000``, ``+86-13800138000`` → ``13800138000``; None when it is not a mainland mobile."""
    if text is None:
        return None
    digits = re.sub(r"[\s\-()]", "", text)
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    return digits if _MOBILE.fullmatch(digits) else None
