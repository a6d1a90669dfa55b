"""Citizen notification tables, all prefixed ``messaging_``. People are referred to by id.

- ``messaging_notification``: one event a person is told about (a template and its values), written in the
  transaction of the change that caused it. Its ``dedupe_key`` makes telling twice about one event
  impossible.
- ``messaging_delivery``: the outbox. One row per channel a notification goes out on (the in-app inbox
  always; e-mail and SMS by the person's preferences), claimed by workers under a lease. Its id is the
  delivery's idempotency key (the e-mail's Message-ID, the SMS provider's reference).
- ``messaging_inbox_entry``: the in-app inbox, one row per notification delivered there, read or not.
- ``messaging_preference``: a person's language, e-mail address and phone, and channels per kind.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from zerotrip.db import Base, JSONType, UTCDateTime

BigId = BigInteger().with_variant(Integer(), "sqlite")

LANGUAGES = ("zh_Hans", "en")
CHANNELS = ("inbox", "email", "sms")
DELIVERY_STATUSES = (
    "pending",  # waiting for its first or next attempt (``due_at``)
    "sending",  # claimed by a worker (``claimed_by``) until its lease ends (``due_at``)
    "handing_over",  # the worker is handing it to the mail server or SMS provider; the last step
    "sent",  # accepted by the server or provider (or handed over when the worker stopped: ``is_confirmed``)
    "failed",  # given up: a permanent refusal, or too many attempts
)


class Notification(Base):
    __tablename__ = "messaging_notification"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("identity_person.id"), nullable=False)
    # The kind of event (the unit of the person's channel preferences), e.g. ``application_decided``.
    kind: Mapped[str] = mapped_column(String(40), nullable=False)
    template: Mapped[str] = mapped_column(String(80), nullable=False)
    params: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False)
    # A path on the platform (``/me/applications/BJ…``) the notification leads to.
    link: Mapped[str | None] = mapped_column(String(300))
    # The recipient's language when it was written; e-mail and SMS are rendered in it.
    language: Mapped[str] = mapped_column(String(8), nullable=False)
    # Unique per event: the same event told twice is told once.
    dedupe_key: Mapped[str] = mapped_column(String(200), nullable=False, unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)

    __table_args__ = (
        Index("ix_messaging_notification_person", "person_id", "created_at"),
        CheckConstraint(f"language IN {LANGUAGES!r}", name="language"),
    )


class Delivery(Base):
    """One notification on one channel: the outbox row a worker claims, sends and records."""

    __tablename__ = "messaging_delivery"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    notification_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("messaging_notification.id"), nullable=False
    )
    channel: Mapped[str] = mapped_column(String(8), nullable=False)
    # The e-mail address or phone number as it was when the notification was written; NULL for the inbox.
    address: Mapped[str | None] = mapped_column(String(254))
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # pending: when it may be tried; sending and handing_over: when the worker's lease ends.
    due_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    # The claiming worker's token; every write of the worker names it, so a lapsed claim writes nothing.
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # False when the worker stopped after handing the message over and before hearing the answer.
    is_confirmed: Mapped[bool | None] = mapped_column()
    # What the server or provider calls it: the Message-ID, the SMS provider's message id.
    provider_ref: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)

    __table_args__ = (
        UniqueConstraint("notification_id", "channel"),
        Index("ix_messaging_delivery_due", "status", "due_at"),
        CheckConstraint(f"channel IN {CHANNELS!r}", name="channel"),
        CheckConstraint(f"status IN {DELIVERY_STATUSES!r}", name="status"),
        CheckConstraint("channel = 'inbox' OR address IS NOT NULL", name="address"),
    )


class InboxEntry(Base):
    """A notification delivered to the person's in-app inbox."""

    __tablename__ = "messaging_inbox_entry"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    notification_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("messaging_notification.id"), nullable=False, unique=True
    )
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("identity_person.id"), nullable=False)
    delivered_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_messaging_inbox_entry_person", "person_id", "delivered_at"),
        Index("ix_messaging_inbox_entry_unread", "person_id", "read_at"),
    )


class Preference(Base):
    """How a person wants to be told. No row means Chinese, the inbox only, and the kinds' defaults."""

    __tablename__ = "messaging_preference"

    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("identity_person.id"), primary_key=True)
    language: Mapped[str] = mapped_column(String(8), nullable=False)
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(20))
    # {kind: ["email", "sms"]}: the channels besides the inbox the person chose for a kind; a kind not
    # named keeps its defaults.
    channels: Mapped[dict[str, list[str]]] = mapped_column(JSONType, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)

    __table_args__ = (CheckConstraint(f"language IN {LANGUAGES!r}", name="language"),)
