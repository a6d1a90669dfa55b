"""View-models of the citizen's notification pages: the inbox, one notification with how it went on each
channel, and the channel preferences form."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

from sqlalchemy.orm import Session

from zerotrip.config import MessagingSettings
from zerotrip.identity.actor import Actor
from zerotrip.messaging import notifications, notifications_queries
from zerotrip.messaging.notifications_templates import KINDS, OPTIONAL_CHANNELS
from zerotrip.messaging.schemas_notifications import DeliveryRead, NotificationRead
from zerotrip.web.datahub_text import Text
from zerotrip.web.i18n import N_
from zerotrip.web.page_kit import Pager, china_time, pager

PER_PAGE = 20
KIND_LABELS = {
    "application_decided": N_("Decisions on my applications"),
    "application_attention": N_("My applications need something from me"),
    "application_progress": N_("My applications are accepted or with a reviewer"),
    "certificate_issued": N_("New certificates in my wallet"),
    "certificate_status": N_("My certificates suspended, reinstated or revoked"),
    "objection_answered": N_("Answers to my objections"),
    "booking_confirmed": N_("My bookings: confirmations and changes"),
    "booking_cancelled": N_("My bookings: cancellations"),
    "booking_reminder": N_("My bookings: the day-before reminder"),
    "vaccination_recorded": N_("Vaccinations recorded"),
    "notice_emergency": N_("Emergency staff notices I have not read (staff only)"),
}
CHANNEL_LABELS = {"inbox": N_("Messages on this site"), "email": N_("E-mail"), "sms": N_("SMS")}
STATUS_LABELS = {
    "pending": N_("Waiting to be sent"),
    "sending": N_("Being sent"),
    "handing_over": N_("Being sent"),
    "sent": N_("Sent"),
    "failed": N_("Could not be sent"),
}
STATUS_BADGES = {"sent": "badge-ok", "failed": "badge-danger"}
# What a page says after a form succeeded (POST → redirect → GET with ?done=…); only these keys make a notice.
NOTICES = {
    "read": N_("Marked as read."),
    "all-read": N_("Everything is marked as read."),
    "saved": N_("Your notification settings are saved."),
}
FORM_LABELS = {"email": N_("E-mail address"), "phone": N_("Mobile number"), "language": N_("Language")}


def notice(done: str | None) -> tuple[Text, ...]:
    msgid = NOTICES.get(done or "")
    return (Text(msgid),) if msgid else ()


def done_url(path: str, done: str, **query: str) -> str:
    return f"{path}?{urlencode({**query, 'done': done})}"


# -- the inbox --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InboxRow:
    id: str
    subject: str
    body: str
    delivered_at: str
    is_unread: bool
    link: str | None
    detail_url: str
    read_url: str


@dataclass(frozen=True)
class InboxView:
    rows: tuple[InboxRow, ...]
    total: int
    unread: int
    is_unread_only: bool
    pager: Pager
    back_to: str  # where the mark-read forms come back to


def inbox(db: Session, actor: Actor, *, language: str, page: int, unread_only: bool) -> InboxView:
    found = notifications_queries.list_inbox(
        db, actor=actor, language=language, unread_only=unread_only, page=page, per_page=PER_PAGE
    )
    params = {"unread": "1"} if unread_only else {}
    here = "/me/notifications" + (
        f"?{urlencode({**params, 'page': str(page)})}" if page > 1 or params else ""
    )
    return InboxView(
        rows=tuple(_row(item) for item in found.items),
        total=found.total,
        unread=found.unread,
        is_unread_only=unread_only,
        pager=pager("/me/notifications", params, page=page, per_page=PER_PAGE, total=found.total),
        back_to=here,
    )


def _row(item: NotificationRead) -> InboxRow:
    return InboxRow(
        id=str(item.id),
        subject=item.subject,
        body=item.body,
        delivered_at=china_time(item.delivered_at),
        is_unread=item.read_at is None,
        link=item.link,
        detail_url=f"/me/notifications/{item.id}",
        read_url=f"/me/notifications/{item.id}/read",
    )


# -- one notification -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChannelRow:
    label: str  # an English msgid
    status_label: str  # an English msgid
    badge: str
    address: str | None
    attempts: int
    sent_at: str
    is_unconfirmed: bool
    last_error: str | None  # as the mail server or provider said it


@dataclass(frozen=True)
class NotificationView:
    row: InboxRow
    read_at: str
    channels: tuple[ChannelRow, ...]


def notification(db: Session, actor: Actor, notification_id: uuid.UUID, *, language: str) -> NotificationView:
    item = notifications_queries.get_inbox_item(
        db, actor=actor, notification_id=notification_id, language=language
    )
    return NotificationView(
        row=_row(item), read_at=china_time(item.read_at), channels=tuple(_channel(d) for d in item.deliveries)
    )


def _channel(delivery: DeliveryRead) -> ChannelRow:
    return ChannelRow(
        label=CHANNEL_LABELS[delivery.channel],
        status_label=STATUS_LABELS[delivery.status],
        badge=STATUS_BADGES.get(delivery.status, "badge-muted"),
        address=delivery.address,
        attempts=delivery.attempts,
        sent_at=china_time(delivery.sent_at),
        is_unconfirmed=delivery.status == "sent" and delivery.is_confirmed is False,
        last_error=delivery.last_error if delivery.status != "sent" else None,
    )


# -- preferences ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KindRow:
    key: str
    label: str  # an English msgid
    is_email: bool
    is_sms: bool
    is_default: bool


@dataclass(frozen=True)
class SettingsForm:
    language: str
    email: str
    phone: str
    registered_phone: str | None
    is_email_offered: bool  # the platform has a mail server
    kinds: tuple[KindRow, ...]


def settings_form(
    db: Session,
    actor: Actor,
    *,
    settings: MessagingSettings,
    submitted: Mapping[str, str] | None = None,
    chosen: Mapping[str, list[str]] | None = None,
) -> SettingsForm:
    """The form filled from what is stored, or (after a refusal) from what was submitted."""
    stored = notifications_queries.get_preferences(db, actor=actor)
    values = submitted or {}
    channels = chosen if chosen is not None else stored.channels
    return SettingsForm(
        language=values.get("language", stored.language),
        email=values.get("email", stored.email or ""),
        phone=values.get("phone", stored.phone or ""),
        registered_phone=stored.registered_phone,
        is_email_offered=bool(settings.smtp_host) or bool(stored.email),
        kinds=tuple(
            KindRow(
                key=key,
                label=KIND_LABELS.get(key, key),
                is_email="email" in channels.get(key, []),
                is_sms="sms" in channels.get(key, []),
                is_default=sorted(channels.get(key, [])) == sorted(stored.defaults[key]),
            )
            for key in KINDS
        ),
    )


def chosen_channels(form: Mapping[str, str]) -> dict[str, list[str]]:
    """Every kind's ticked channels (``email:<kind>``, ``sms:<kind>`` boxes); an unticked kind has none."""
    return {kind: [c for c in OPTIONAL_CHANNELS if form.get(f"{c}:{kind}") == "on"] for kind in KINDS}


def save_settings(db: Session, actor: Actor, form: Mapping[str, str]) -> None:
    notifications.set_preferences(
        db,
        actor=actor,
        language=form.get("language", "zh_Hans"),
        email=form.get("email", ""),
        phone=form.get("phone", ""),
        channels=chosen_channels(form),
    )
