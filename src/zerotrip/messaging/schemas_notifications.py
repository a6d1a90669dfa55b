"""Shapes of citizen notifications: what another context asks to send, and what the API and pages show."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

Language = Literal["zh_Hans", "en"]
Channel = Literal["inbox", "email", "sms"]
OptionalChannel = Literal["email", "sms"]
DeliveryStatus = Literal["pending", "sending", "handing_over", "sent", "failed"]


@dataclass(frozen=True)
class NotificationRequest:
    """One notification another context asks for (``messaging.actions.notify_many``).

    Name the recipient exactly one way: ``person_id``, a citizen ``account_id``, a ``resident_id``, or an
    enterprise's ``uscc`` (its legal representative is told). ``template`` is a key of
    ``messaging.notifications_templates.TEMPLATES`` and ``params`` fills its fields. ``dedupe_key`` names
    the event (``booking.appointment.booked:YY12345``): asking again with a key already used sends
    nothing. ``link`` is a path on the platform (``/me/…``) the notification leads to.
    """

    template: str
    params: Mapping[str, Any]
    dedupe_key: str
    person_id: uuid.UUID | None = None
    account_id: uuid.UUID | None = None
    resident_id: str | None = None
    uscc: str | None = None
    link: str | None = None


# -- reading ----------------------------------------------------------------------------------------------


class DeliveryRead(BaseModel):
    channel: Channel
    status: DeliveryStatus
    attempts: int
    sent_at: datetime | None
    is_confirmed: bool | None = Field(
        description="False when the worker stopped after handing the message over and before the server"
        " answered: it was not sent again."
    )
    last_error: str | None
    address: str | None = Field(description="The e-mail address or phone (masked) it went to.")


class NotificationRead(BaseModel):
    id: uuid.UUID
    kind: str
    template: str
    subject: str
    body: str
    link: str | None
    delivered_at: datetime
    read_at: datetime | None
    deliveries: list[DeliveryRead] = Field(default_factory=list)


class NotificationPage(BaseModel):
    items: list[NotificationRead]
    total: int
    unread: int
    page: int
    per_page: int


class UnreadCount(BaseModel):
    unread: int


class MarkedRead(BaseModel):
    marked: int


class PreferencesRead(BaseModel):
    language: Language
    email: str | None
    phone: str | None
    registered_phone: str | None = Field(
        description="The phone in the population register, offered as a suggestion; SMS go only to `phone`."
    )
    channels: dict[str, list[OptionalChannel]] = Field(
        description="For every kind of event, the channels besides the in-app inbox (which is always on)."
    )
    defaults: dict[str, list[OptionalChannel]] = Field(
        description="The platform's default channels per kind."
    )


class PreferencesUpdate(BaseModel):
    language: Language = "zh_Hans"
    email: str | None = Field(None, max_length=254)
    phone: str | None = Field(None, max_length=20)
    channels: dict[str, list[OptionalChannel]] = Field(
        default_factory=dict, description="Kinds left out keep what they had."
    )
