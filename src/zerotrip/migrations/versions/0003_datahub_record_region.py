"""Datahub: index live records by region, for open data filters by district and region-sized reads.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("datahub_record", schema=None) as batch_op:
        batch_op.create_index(
            "ix_datahub_record_region", ["resource_id", "division_code", "is_deleted"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("datahub_record", schema=None) as batch_op:
        batch_op.drop_index("ix_datahub_record_region")
