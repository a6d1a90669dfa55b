"""Messaging: per-unit tallies of a notice's receipts (read and acknowledged), kept with the receipts, so a
roll-up reads one row per unit; filled from the receipts already stored.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "messaging_notice_tally",
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("org_path", sa.String(length=255), nullable=False),
        sa.Column("read_count", sa.Integer(), nullable=False),
        sa.Column("acked_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["notice_id"],
            ["messaging_notice.id"],
            name=op.f("fk_messaging_notice_tally_notice_id_messaging_notice"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["identity_org.id"], name=op.f("fk_messaging_notice_tally_org_id_identity_org")
        ),
        sa.PrimaryKeyConstraint("notice_id", "org_id", name=op.f("pk_messaging_notice_tally")),
    )
    op.create_index(
        "ix_messaging_notice_tally_notice_id_org_path",
        "messaging_notice_tally",
        ["notice_id", "org_path"],
        unique=False,
    )
    op.execute(
        "INSERT INTO messaging_notice_tally (notice_id, org_id, org_path, read_count, acked_count)"
        " SELECT notice_id, org_id, min(org_path), count(*), count(acked_at)"
        " FROM messaging_notice_receipt GROUP BY notice_id, org_id"
    )


def downgrade() -> None:
    op.drop_index("ix_messaging_notice_tally_notice_id_org_path", table_name="messaging_notice_tally")
    op.drop_table("messaging_notice_tally")
