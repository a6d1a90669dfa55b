"""Certificates: what a status list has used is counted over a few rows per list (shards) instead of one
column of the list's row, which every concurrent issue had to lock until it committed; the counts already
kept move to the first shard.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "certificates_status_list_usage",
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("shard", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["list_id"],
            ["certificates_status_list.id"],
            name=op.f("fk_certificates_status_list_usage_list_id_certificates_status_list"),
        ),
        sa.PrimaryKeyConstraint("list_id", "shard", name=op.f("pk_certificates_status_list_usage")),
    )
    op.execute(
        "INSERT INTO certificates_status_list_usage (list_id, shard, used)"
        " SELECT id, 0, used FROM certificates_status_list WHERE used > 0"
    )
    with op.batch_alter_table("certificates_status_list", schema=None) as batch_op:
        batch_op.drop_column("used")


def downgrade() -> None:
    with op.batch_alter_table("certificates_status_list", schema=None) as batch_op:
        batch_op.add_column(sa.Column("used", sa.Integer(), nullable=False, server_default="0"))
    op.execute(
        "UPDATE certificates_status_list SET used = COALESCE((SELECT sum(u.used)"
        " FROM certificates_status_list_usage u WHERE u.list_id = certificates_status_list.id), 0)"
    )
    op.drop_table("certificates_status_list_usage")
