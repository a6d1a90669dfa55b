"""What other contexts call to write to messaging, inside their own transaction.

Citizen notifications: ``notify`` for one event, ``notify_many`` for a batch (a few statements whatever
its size). See ``docs/messaging.md`` ("Citizen notifications") and ``notifications_templates`` for the
templates and their params.
"""

from __future__ import annotations

from zerotrip.messaging.notifications import notify, notify_many
from zerotrip.messaging.schemas_notifications import NotificationRequest

__all__ = ["NotificationRequest", "notify", "notify_many"]
