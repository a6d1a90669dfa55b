"""Citizen notifications JSON API under ``/api/messaging``: the inbox, marking read, and the channel
preferences.

A citizen calls these from the portal with the session cookie and the ``X-CSRF-Token`` header (or an app
would, with its session). Every action checks that the caller is a citizen reading their own inbox
(``identity/not-your-record`` for anyone else); a notification in someone else's inbox is a 404
(``messaging/notification-not-found``).
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Query

from zerotrip.db import transaction
from zerotrip.deps import DB, CurrentActor
from zerotrip.messaging import notifications, notifications_queries
from zerotrip.messaging.schemas_notifications import (
    Language,
    MarkedRead,
    NotificationPage,
    NotificationRead,
    PreferencesRead,
    PreferencesUpdate,
    UnreadCount,
)
from zerotrip.routing import PrefixRouter

router = PrefixRouter(prefix="/api/messaging", tags=["messaging: citizen notifications"])
Page = Annotated[int, Query(ge=1, le=100_000)]
PerPage = Annotated[int, Query(ge=1, le=100)]
LanguageQuery = Annotated[Language, Query(description="The language to write the notifications in.")]


@router.get("/notifications", response_model=NotificationPage, summary="My notifications")
def list_notifications(
    db: DB,
    actor: CurrentActor,
    page: Page = 1,
    per_page: PerPage = 20,
    unread: bool = False,
    language: LanguageQuery = "zh_Hans",
) -> NotificationPage:
    """The signed-in citizen's inbox, newest first (``unread=true``: the unread ones only)."""
    with transaction(db):
        return notifications_queries.list_inbox(
            db, actor=actor, language=language, unread_only=unread, page=page, per_page=per_page
        )


@router.get("/notifications/unread", response_model=UnreadCount, summary="How many are unread")
def unread_count(db: DB, actor: CurrentActor) -> UnreadCount:
    with transaction(db):
        return UnreadCount(unread=notifications_queries.unread_count(db, actor=actor))


@router.post("/notifications/read", response_model=MarkedRead, summary="Mark all as read")
def mark_all_read(db: DB, actor: CurrentActor) -> MarkedRead:
    with transaction(db):
        return MarkedRead(marked=notifications.mark_all_read(db, actor=actor))


@router.get("/notifications/{notification_id}", response_model=NotificationRead, summary="One notification")
def read_notification(
    notification_id: uuid.UUID, db: DB, actor: CurrentActor, language: LanguageQuery = "zh_Hans"
) -> NotificationRead:
    """With how it went on each channel: the inbox, e-mail and SMS (status, attempts, the last error)."""
    with transaction(db):
        return notifications_queries.get_inbox_item(
            db, actor=actor, notification_id=notification_id, language=language
        )


@router.post("/notifications/{notification_id}/read", response_model=NotificationRead, summary="Mark as read")
def mark_read(
    notification_id: uuid.UUID, db: DB, actor: CurrentActor, language: LanguageQuery = "zh_Hans"
) -> NotificationRead:
    with transaction(db):
        notifications.mark_read(db, actor=actor, notification_id=notification_id)
        return notifications_queries.get_inbox_item(
            db, actor=actor, notification_id=notification_id, language=language
        )


@router.get("/preferences", response_model=PreferencesRead, summary="My notification settings")
def read_preferences(db: DB, actor: CurrentActor) -> PreferencesRead:
    with transaction(db):
        return notifications_queries.get_preferences(db, actor=actor)


@router.put("/preferences", response_model=PreferencesRead, summary="Change my notification settings")
def update_preferences(body: PreferencesUpdate, db: DB, actor: CurrentActor) -> PreferencesRead:
    """Language, e-mail address and mobile number (empty turns the channel off), and per kind of event the
    channels besides the inbox; kinds left out keep their choice."""
    with transaction(db):
        notifications.set_preferences(
            db,
            actor=actor,
            language=body.language,
            email=body.email,
            phone=body.phone,
            channels=body.channels,
        )
        return notifications_queries.get_preferences(db, actor=actor)
