"""Messaging: citizen notifications (the outbox of deliveries per channel, the in-app inbox, preferences).

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "messaging_notification",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("template", sa.String(length=80), nullable=False),
        sa.Column("params", JSON, nullable=False),
        sa.Column("link", sa.String(length=300), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("dedupe_key", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("language IN ('zh_Hans', 'en')", name=op.f("ck_messaging_notification_language")),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["identity_person.id"],
            name=op.f("fk_messaging_notification_person_id_identity_person"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messaging_notification")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_messaging_notification_dedupe_key")),
    )
    op.create_index(
        "ix_messaging_notification_person",
        "messaging_notification",
        ["person_id", "created_at"],
        unique=False,
    )
    op.create_table(
        "messaging_preference",
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("channels", JSON, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("language IN ('zh_Hans', 'en')", name=op.f("ck_messaging_preference_language")),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["identity_person.id"],
            name=op.f("fk_messaging_preference_person_id_identity_person"),
        ),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_messaging_preference")),
    )
    op.create_table(
        "messaging_delivery",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("notification_id", sa.Uuid(), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("address", sa.String(length=254), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("is_confirmed", sa.Boolean(), nullable=True),
        sa.Column("provider_ref", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "channel = 'inbox' OR address IS NOT NULL", name=op.f("ck_messaging_delivery_address")
        ),
        sa.CheckConstraint(
            "channel IN ('inbox', 'email', 'sms')", name=op.f("ck_messaging_delivery_channel")
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'sending', 'handing_over', 'sent', 'failed')",
            name=op.f("ck_messaging_delivery_status"),
        ),
        sa.ForeignKeyConstraint(
            ["notification_id"],
            ["messaging_notification.id"],
            name=op.f("fk_messaging_delivery_notification_id_messaging_notification"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messaging_delivery")),
        sa.UniqueConstraint(
            "notification_id", "channel", name=op.f("uq_messaging_delivery_notification_id_channel")
        ),
    )
    op.create_index("ix_messaging_delivery_due", "messaging_delivery", ["status", "due_at"], unique=False)
    op.create_table(
        "messaging_inbox_entry",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("notification_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["notification_id"],
            ["messaging_notification.id"],
            name=op.f("fk_messaging_inbox_entry_notification_id_messaging_notification"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["identity_person.id"],
            name=op.f("fk_messaging_inbox_entry_person_id_identity_person"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messaging_inbox_entry")),
        sa.UniqueConstraint("notification_id", name=op.f("uq_messaging_inbox_entry_notification_id")),
    )
    op.create_index(
        "ix_messaging_inbox_entry_person",
        "messaging_inbox_entry",
        ["person_id", "delivered_at"],
        unique=False,
    )
    op.create_index(
        "ix_messaging_inbox_entry_unread", "messaging_inbox_entry", ["person_id", "read_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_messaging_inbox_entry_unread", table_name="messaging_inbox_entry")
    op.drop_index("ix_messaging_inbox_entry_person", table_name="messaging_inbox_entry")
    op.drop_table("messaging_inbox_entry")
    op.drop_index("ix_messaging_delivery_due", table_name="messaging_delivery")
    op.drop_table("messaging_delivery")
    op.drop_table("messaging_preference")
    op.drop_index("ix_messaging_notification_person", table_name="messaging_notification")
    op.drop_table("messaging_notification")
