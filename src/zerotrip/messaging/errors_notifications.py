"""Citizen notification problems (RFC 9457), each with a stable slug documented in docs/problems.md."""

from __future__ import annotations

from zerotrip.problems import NotFound


class NotificationNotFound(NotFound):
    """No notification with this id in the signed-in person's inbox (someone else's looks the same)."""

    slug = "messaging/notification-not-found"
    title = "No such notification in your inbox"


class RecipientNotFound(NotFound):
    """A context asked to notify a person, account, resident ID or enterprise that is not registered (or
    a staff account, which has no citizen inbox)."""

    slug = "messaging/recipient-not-found"
    title = "There is no registered person to notify"
