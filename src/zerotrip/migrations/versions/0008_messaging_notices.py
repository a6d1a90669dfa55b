"""Messaging: staff notices and emergency broadcasts with their targets, attachments, read receipts and
reminder rounds; report-back answers and their numbers; staff per unit and set of roles (the headcount
roll-ups sum), and the memberships it was derived from.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "messaging_headcount_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("membership_max_id", sa.Integer(), nullable=False),
        sa.Column("membership_count", sa.Integer(), nullable=False),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messaging_headcount_state")),
    )
    op.create_table(
        "messaging_org_headcount",
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("role_mask", sa.Integer(), nullable=False),
        sa.Column("org_path", sa.String(length=255), nullable=False),
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column("staff", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("org_id", "role_mask", name=op.f("pk_messaging_org_headcount")),
    )
    op.create_index(
        op.f("ix_messaging_org_headcount_org_path"), "messaging_org_headcount", ["org_path"], unique=False
    )
    op.create_table(
        "messaging_notice",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("priority", sa.String(length=10), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("requires_ack", sa.Boolean(), nullable=False),
        sa.Column(
            "links",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "form",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("remind_after_minutes", sa.Integer(), nullable=True),
        sa.Column("reminder_rounds", sa.Integer(), nullable=False),
        sa.Column("last_reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("publisher_account_id", sa.Uuid(), nullable=False),
        sa.Column("publisher_name", sa.String(length=60), nullable=False),
        sa.Column("publisher_org_id", sa.Integer(), nullable=False),
        sa.Column("publisher_org_path", sa.String(length=255), nullable=False),
        sa.Column("publisher_org_name", sa.String(length=120), nullable=False),
        sa.Column("is_province_wide", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by_account_id", sa.Uuid(), nullable=True),
        sa.Column("decided_by_name", sa.String(length=60), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "priority IN ('normal', 'urgent', 'emergency')", name=op.f("ck_messaging_notice_priority")
        ),
        sa.CheckConstraint(
            "status IN ('draft', 'pending_approval', 'published', 'rejected', 'withdrawn')",
            name=op.f("ck_messaging_notice_status"),
        ),
        sa.CheckConstraint(
            "remind_after_minutes IS NULL OR remind_after_minutes > 0",
            name=op.f("ck_messaging_notice_remind_after"),
        ),
        sa.ForeignKeyConstraint(
            ["publisher_account_id"],
            ["identity_account.id"],
            name=op.f("fk_messaging_notice_publisher_account_id_identity_account"),
        ),
        sa.ForeignKeyConstraint(
            ["publisher_org_id"],
            ["identity_org.id"],
            name=op.f("fk_messaging_notice_publisher_org_id_identity_org"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messaging_notice")),
    )
    op.create_index(
        op.f("ix_messaging_notice_publisher_account_id"),
        "messaging_notice",
        ["publisher_account_id"],
        unique=False,
    )
    op.create_index(
        "ix_messaging_notice_status_published_at",
        "messaging_notice",
        ["status", "published_at"],
        unique=False,
    )
    op.create_table(
        "messaging_notice_attachment",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("path", sa.String(length=300), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["notice_id"],
            ["messaging_notice.id"],
            name=op.f("fk_messaging_notice_attachment_notice_id_messaging_notice"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messaging_notice_attachment")),
    )
    op.create_index(
        op.f("ix_messaging_notice_attachment_notice_id"),
        "messaging_notice_attachment",
        ["notice_id"],
        unique=False,
    )
    op.create_table(
        "messaging_notice_receipt",
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("org_path", sa.String(length=255), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["identity_account.id"],
            name=op.f("fk_messaging_notice_receipt_account_id_identity_account"),
        ),
        sa.ForeignKeyConstraint(
            ["notice_id"],
            ["messaging_notice.id"],
            name=op.f("fk_messaging_notice_receipt_notice_id_messaging_notice"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["identity_org.id"], name=op.f("fk_messaging_notice_receipt_org_id_identity_org")
        ),
        sa.PrimaryKeyConstraint(
            "notice_id", "account_id", "org_id", name=op.f("pk_messaging_notice_receipt")
        ),
    )
    op.create_index(
        "ix_messaging_notice_receipt_reader",
        "messaging_notice_receipt",
        ["account_id", "notice_id", "read_at", "acked_at"],
        unique=False,
    )
    op.create_index(
        "ix_messaging_notice_receipt_rollup",
        "messaging_notice_receipt",
        ["notice_id", "org_path", "acked_at"],
        unique=False,
    )
    op.create_table(
        "messaging_notice_reminder",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("missing", sa.String(length=16), nullable=False),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "missing IN ('unread', 'unacknowledged')", name=op.f("ck_messaging_notice_reminder_missing")
        ),
        sa.ForeignKeyConstraint(
            ["notice_id"],
            ["messaging_notice.id"],
            name=op.f("fk_messaging_notice_reminder_notice_id_messaging_notice"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messaging_notice_reminder")),
        sa.UniqueConstraint("notice_id", "round", name=op.f("uq_messaging_notice_reminder_notice_id_round")),
    )
    op.create_index(
        op.f("ix_messaging_notice_reminder_notice_id"),
        "messaging_notice_reminder",
        ["notice_id"],
        unique=False,
    )
    op.create_table(
        "messaging_notice_target",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("scope_org_id", sa.Integer(), nullable=False),
        sa.Column("scope_path", sa.String(length=255), nullable=False),
        sa.Column("division_prefix", sa.String(length=6), nullable=False),
        sa.Column("role_mask", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=160), nullable=False),
        sa.ForeignKeyConstraint(
            ["notice_id"],
            ["messaging_notice.id"],
            name=op.f("fk_messaging_notice_target_notice_id_messaging_notice"),
        ),
        sa.ForeignKeyConstraint(
            ["scope_org_id"],
            ["identity_org.id"],
            name=op.f("fk_messaging_notice_target_scope_org_id_identity_org"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messaging_notice_target")),
    )
    op.create_index(
        "ix_messaging_notice_target_match",
        "messaging_notice_target",
        ["scope_path", "division_prefix", "notice_id", "role_mask"],
        unique=False,
    )
    op.create_index(
        op.f("ix_messaging_notice_target_notice_id"), "messaging_notice_target", ["notice_id"], unique=False
    )
    op.create_table(
        "messaging_report_answer",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("org_path", sa.String(length=255), nullable=False),
        sa.Column(
            "values",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("answered_by_account_id", sa.Uuid(), nullable=False),
        sa.Column("answered_by_name", sa.String(length=60), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("amended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["notice_id"],
            ["messaging_notice.id"],
            name=op.f("fk_messaging_report_answer_notice_id_messaging_notice"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["identity_org.id"], name=op.f("fk_messaging_report_answer_org_id_identity_org")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messaging_report_answer")),
        sa.UniqueConstraint("notice_id", "org_id", name=op.f("uq_messaging_report_answer_notice_id_org_id")),
    )
    op.create_index(
        "ix_messaging_report_answer_notice_id_org_path",
        "messaging_report_answer",
        ["notice_id", "org_path"],
        unique=False,
    )
    op.create_table(
        "messaging_report_value",
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("field_key", sa.String(length=40), nullable=False),
        sa.Column("org_path", sa.String(length=255), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["notice_id"],
            ["messaging_notice.id"],
            name=op.f("fk_messaging_report_value_notice_id_messaging_notice"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["identity_org.id"], name=op.f("fk_messaging_report_value_org_id_identity_org")
        ),
        sa.PrimaryKeyConstraint("notice_id", "org_id", "field_key", name=op.f("pk_messaging_report_value")),
    )
    op.create_index(
        "ix_messaging_report_value_notice_id_org_path",
        "messaging_report_value",
        ["notice_id", "org_path"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_messaging_report_value_notice_id_org_path", table_name="messaging_report_value")
    op.drop_table("messaging_report_value")
    op.drop_index("ix_messaging_report_answer_notice_id_org_path", table_name="messaging_report_answer")
    op.drop_table("messaging_report_answer")
    op.drop_index(op.f("ix_messaging_notice_target_notice_id"), table_name="messaging_notice_target")
    op.drop_index("ix_messaging_notice_target_match", table_name="messaging_notice_target")
    op.drop_table("messaging_notice_target")
    op.drop_index(op.f("ix_messaging_notice_reminder_notice_id"), table_name="messaging_notice_reminder")
    op.drop_table("messaging_notice_reminder")
    op.drop_index("ix_messaging_notice_receipt_rollup", table_name="messaging_notice_receipt")
    op.drop_index("ix_messaging_notice_receipt_reader", table_name="messaging_notice_receipt")
    op.drop_table("messaging_notice_receipt")
    op.drop_index(op.f("ix_messaging_notice_attachment_notice_id"), table_name="messaging_notice_attachment")
    op.drop_table("messaging_notice_attachment")
    op.drop_index("ix_messaging_notice_status_published_at", table_name="messaging_notice")
    op.drop_index(op.f("ix_messaging_notice_publisher_account_id"), table_name="messaging_notice")
    op.drop_table("messaging_notice")
    op.drop_index(op.f("ix_messaging_org_headcount_org_path"), table_name="messaging_org_headcount")
    op.drop_table("messaging_org_headcount")
    op.drop_table("messaging_headcount_state")
