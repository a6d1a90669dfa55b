"""Services: a form field may be prefilled from an e-certificate used from the applicant's wallet
(``source = 'certificate'``).

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("services_form_field", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_services_form_field_source"), type_="check")
        batch_op.alter_column(
            "source", existing_type=sa.String(length=10), type_=sa.String(length=12), existing_nullable=False
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_services_form_field_source"),
            "source IN ('datahub', 'certificate', 'identity', 'applicant')",
        )


def downgrade() -> None:
    with op.batch_alter_table("services_form_field", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_services_form_field_source"), type_="check")
        batch_op.alter_column(
            "source", existing_type=sa.String(length=12), type_=sa.String(length=10), existing_nullable=False
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_services_form_field_source"), "source IN ('datahub', 'identity', 'applicant')"
        )
