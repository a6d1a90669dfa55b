"""Staff notices and emergency broadcasts: tables prefixed ``messaging_``.

Publishing writes the notice and its few targets, never a row per recipient. Whom a notice reaches is
worked out when someone asks: an inbox matches the notice's targets against the asker's memberships; a
roll-up sums ``messaging_org_headcount`` (staff per unit and set of roles) for the recipients and the
per-unit tallies of the receipts (``messaging_notice_tally``) for the readers. Receipts and tallies are
written when someone reads.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
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

PRIORITIES = ("normal", "urgent", "emergency")
NOTICE_STATUSES = (
    "draft",  # being written; only its publisher sees it
    "pending_approval",  # a province-wide emergency notice waiting for a second publisher's approval
    "published",  # in the recipients' inboxes
    "rejected",  # the approver refused it; it was never sent
    "withdrawn",  # taken back by its publisher after publishing; recipients see that it was withdrawn
)


class Notice(Base):
    """A notice (通知) or emergency broadcast (紧急通知) from a publisher acting for one organisation."""

    __tablename__ = "messaging_notice"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    priority: Mapped[str] = mapped_column(String(10), nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    requires_ack: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    # [{"title": ..., "url": ...}], http(s) only.
    links: Mapped[list[dict[str, str]]] = mapped_column(JSONType, nullable=False, default=list)
    # The report-back form (报送): [{"key": ..., "label": ..., "unit": ...}] of whole numbers; NULL: none.
    form: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONType)
    # Remind those who have not read (or acknowledged, when that is required) this long after publishing.
    remind_after_minutes: Mapped[int | None] = mapped_column(Integer)
    reminder_rounds: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Who publishes, for which organisation (snapshots of the names for display).
    publisher_account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("identity_account.id"), nullable=False, index=True
    )
    publisher_name: Mapped[str] = mapped_column(String(60), nullable=False)
    publisher_org_id: Mapped[int] = mapped_column(ForeignKey("identity_org.id"), nullable=False)
    publisher_org_path: Mapped[str] = mapped_column(String(255), nullable=False)
    publisher_org_name: Mapped[str] = mapped_column(String(120), nullable=False)
    # Set when the notice is submitted: some target reaches the whole province.
    is_province_wide: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The approver (or the one who refused), when approval was needed.
    decided_by_account_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    decided_by_name: Mapped[str | None] = mapped_column(String(60))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decision_reason: Mapped[str | None] = mapped_column(Text)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        CheckConstraint(f"status IN {NOTICE_STATUSES!r}", name="status"),
        CheckConstraint(f"priority IN {PRIORITIES!r}", name="priority"),
        CheckConstraint("remind_after_minutes IS NULL OR remind_after_minutes > 0", name="remind_after"),
        Index("ix_messaging_notice_status_published_at", "status", "published_at"),
    )


class NoticeTarget(Base):
    """One audience rule of a notice: the staff whose unit lies in the subtree at ``scope_path``, whose
    unit's division code starts with ``division_prefix`` ('' for any), holding one of the roles in
    ``role_mask`` (0 for any role, or none). A staff member is a recipient when any rule matches one of
    their memberships. A region target's scope is the publisher's own subtree, so nobody outside it is
    reached."""

    __tablename__ = "messaging_notice_target"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("messaging_notice.id"), nullable=False, index=True)
    scope_org_id: Mapped[int] = mapped_column(ForeignKey("identity_org.id"), nullable=False)
    scope_path: Mapped[str] = mapped_column(String(255), nullable=False)
    division_prefix: Mapped[str] = mapped_column(String(6), nullable=False, default="")
    role_mask: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # How the publisher described it (the unit's or region's name), for display.
    label: Mapped[str] = mapped_column(String(160), nullable=False)

    __table_args__ = (
        # An inbox asks for the targets whose scope is one of the reader's units' ancestors.
        Index("ix_messaging_notice_target_match", "scope_path", "division_prefix", "notice_id", "role_mask"),
    )


class NoticeAttachment(Base):
    """A file sent with a notice; the bytes live in the data directory, never the database."""

    __tablename__ = "messaging_notice_attachment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("messaging_notice.id"), nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    content_type: Mapped[str] = mapped_column(String(100), nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    # Relative to the data directory.
    path: Mapped[str] = mapped_column(String(300), nullable=False)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)


class NoticeReceipt(Base):
    """A reader's receipt (回执), written when they read: one row for each of their units the notice
    reached them in (nearly always one), carrying the unit's path so a roll-up is a prefix GROUP BY."""

    __tablename__ = "messaging_notice_receipt"

    notice_id: Mapped[int] = mapped_column(ForeignKey("messaging_notice.id"), primary_key=True)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("identity_account.id"), primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("identity_org.id"), primary_key=True)
    org_path: Mapped[str] = mapped_column(String(255), nullable=False)
    read_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    acked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        # A roll-up reads (org_path, acked_at) of one notice from this index alone.
        Index("ix_messaging_notice_receipt_rollup", "notice_id", "org_path", "acked_at"),
        # An inbox reads the reader's own receipts from this one.
        Index("ix_messaging_notice_receipt_reader", "account_id", "notice_id", "read_at", "acked_at"),
    )


class NoticeTally(Base):
    """How many of a unit's staff have read and acknowledged a notice: one row per notice and unit where
    someone has read, kept in step with the receipts in the same transaction, so a roll-up reads a row per
    unit instead of counting every receipt."""

    __tablename__ = "messaging_notice_tally"

    notice_id: Mapped[int] = mapped_column(ForeignKey("messaging_notice.id"), primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("identity_org.id"), primary_key=True)
    org_path: Mapped[str] = mapped_column(String(255), nullable=False)
    read_count: Mapped[int] = mapped_column(Integer, nullable=False)
    acked_count: Mapped[int] = mapped_column(Integer, nullable=False)

    __table_args__ = (Index("ix_messaging_notice_tally_notice_id_org_path", "notice_id", "org_path"),)


class NoticeReminder(Base):
    """One round of reminders sent for a notice: whom it was for and how many, not a row per person."""

    __tablename__ = "messaging_notice_reminder"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("messaging_notice.id"), nullable=False, index=True)
    round: Mapped[int] = mapped_column(Integer, nullable=False)
    # "unread": those who have not read; "unacknowledged": those who have not acknowledged.
    missing: Mapped[str] = mapped_column(String(16), nullable=False)
    recipients: Mapped[int] = mapped_column(Integer, nullable=False)
    # The channel the reminders went through ("inbox", or "sms" for an emergency's escalation).
    channel: Mapped[str] = mapped_column(String(10), nullable=False)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)

    __table_args__ = (
        UniqueConstraint("notice_id", "round"),
        CheckConstraint("missing IN ('unread', 'unacknowledged')", name="missing"),
    )


class ReportAnswer(Base):
    """A unit's answer to a notice's report-back form (报送): one per unit, amendable by the same unit."""

    __tablename__ = "messaging_report_answer"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("messaging_notice.id"), nullable=False)
    org_id: Mapped[int] = mapped_column(ForeignKey("identity_org.id"), nullable=False)
    org_path: Mapped[str] = mapped_column(String(255), nullable=False)
    values: Mapped[dict[str, int]] = mapped_column(JSONType, nullable=False)
    answered_by_account_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    answered_by_name: Mapped[str] = mapped_column(String(60), nullable=False)
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    amended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revision: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    __table_args__ = (
        UniqueConstraint("notice_id", "org_id"),
        Index("ix_messaging_report_answer_notice_id_org_path", "notice_id", "org_path"),
    )


class ReportValue(Base):
    """One number of a unit's answer, kept as a row so a subtree's sum is one SUM … GROUP BY."""

    __tablename__ = "messaging_report_value"

    notice_id: Mapped[int] = mapped_column(ForeignKey("messaging_notice.id"), primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("identity_org.id"), primary_key=True)
    field_key: Mapped[str] = mapped_column(String(40), primary_key=True)
    org_path: Mapped[str] = mapped_column(String(255), nullable=False)
    value: Mapped[int] = mapped_column(BigInteger, nullable=False)

    __table_args__ = (Index("ix_messaging_report_value_notice_id_org_path", "notice_id", "org_path"),)


class OrgHeadcount(Base):
    """How many staff work in a unit with exactly the set of roles ``role_mask`` there (bit 0: a
    membership with no role; see ``notices_targeting.ROLE_BITS``). Derived from identity's memberships by
    ``rollups_headcount``, so a roll-up counts a notice's recipients per unit without a row per person."""

    __tablename__ = "messaging_org_headcount"

    org_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    role_mask: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_path: Mapped[str] = mapped_column(String(255), nullable=False, index=True)
    division_code: Mapped[str] = mapped_column(String(6), nullable=False)
    staff: Mapped[int] = mapped_column(Integer, nullable=False)


class HeadcountState(Base):
    """The memberships ``messaging_org_headcount`` was derived from: the highest membership id and the
    number of memberships seen (one row, id 1). A difference from identity's table means it is stale."""

    __tablename__ = "messaging_headcount_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    membership_max_id: Mapped[int] = mapped_column(Integer, nullable=False)
    membership_count: Mapped[int] = mapped_column(Integer, nullable=False)
    refreshed_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
