"""Services: a bundle may name the register whose records are its subject (出生“一件事”: the births
register); when it holds several records about the applicant (twins, a second child), the bundle
application's source waits for the applicant's choice (``state = 'choosing'``).

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("services_bundle", schema=None) as batch_op:
        batch_op.add_column(sa.Column("subject_register", sa.String(length=80), nullable=True))
    with op.batch_alter_table("services_bundle_source", schema=None) as batch_op:
        batch_op.add_column(sa.Column("is_subject", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.drop_constraint(batch_op.f("ck_services_bundle_source_state"), type_="check")
        batch_op.create_check_constraint(
            batch_op.f("ck_services_bundle_source_state"),
            "state IN ('pending', 'choosing', 'fetched', 'unavailable', 'uploaded')",
        )


def downgrade() -> None:
    with op.batch_alter_table("services_bundle_source", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_services_bundle_source_state"), type_="check")
        batch_op.create_check_constraint(
            batch_op.f("ck_services_bundle_source_state"),
            "state IN ('pending', 'fetched', 'unavailable', 'uploaded')",
        )
        batch_op.drop_column("is_subject")
    with op.batch_alter_table("services_bundle", schema=None) as batch_op:
        batch_op.drop_column("subject_register")
