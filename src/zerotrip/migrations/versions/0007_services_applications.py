"""Services: applications (办件) with their evidence per material, form fields and transition log, and the
instant-approval rule sets (秒批规则) per item.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "services_rule_set",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "rules",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("defined_by", sa.String(length=120), nullable=False),
        sa.Column("defined_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"], ["services_item.id"], name=op.f("fk_services_rule_set_item_id_services_item")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_services_rule_set")),
        sa.UniqueConstraint("item_id", "version", name=op.f("uq_services_rule_set_item_id_version")),
    )
    op.create_table(
        "services_application",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.String(length=16), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("item_version", sa.Integer(), nullable=False),
        sa.Column("applicant_kind", sa.String(length=10), nullable=False),
        sa.Column("applicant_key", sa.String(length=18), nullable=False),
        sa.Column("applicant_name", sa.String(length=120), nullable=False),
        sa.Column("filed_by_person_id", sa.Uuid(), nullable=False),
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column("department_org_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("rule_set_id", sa.Integer(), nullable=True),
        sa.Column(
            "rule_results",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("review_reason", sa.Text(), nullable=True),
        sa.Column("decision_text", sa.Text(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=120), nullable=True),
        sa.Column("result_certificate_number", sa.String(length=80), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "applicant_kind IN ('person', 'enterprise')", name=op.f("ck_services_application_applicant_kind")
        ),
        sa.CheckConstraint(
            "status IN ('draft', 'submitted', 'accepted', 'in_review', 'supplement', 'approved', 'refused', 'withdrawn')",
            name=op.f("ck_services_application_status"),
        ),
        sa.ForeignKeyConstraint(
            ["department_org_id"],
            ["identity_org.id"],
            name=op.f("fk_services_application_department_org_id_identity_org"),
        ),
        sa.ForeignKeyConstraint(
            ["filed_by_person_id"],
            ["identity_person.id"],
            name=op.f("fk_services_application_filed_by_person_id_identity_person"),
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["services_item.id"], name=op.f("fk_services_application_item_id_services_item")
        ),
        sa.ForeignKeyConstraint(
            ["rule_set_id"],
            ["services_rule_set.id"],
            name=op.f("fk_services_application_rule_set_id_services_rule_set"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_services_application")),
        sa.UniqueConstraint("number", name=op.f("uq_services_application_number")),
    )
    with op.batch_alter_table("services_application", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_services_application_applicant_key"), ["applicant_key"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_services_application_division_code"), ["division_code"], unique=False
        )
        batch_op.create_index(
            "ix_services_application_filer", ["filed_by_person_id", "created_at"], unique=False
        )
        batch_op.create_index("ix_services_application_queue", ["department_org_id", "status"], unique=False)

    op.create_table(
        "services_evidence",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("application_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("material_name", sa.String(length=120), nullable=False),
        sa.Column("is_required", sa.Boolean(), nullable=False),
        sa.Column("is_deferrable", sa.Boolean(), nullable=False),
        sa.Column("source_kind", sa.String(length=16), nullable=False),
        sa.Column("source_ref", sa.String(length=80), nullable=True),
        sa.Column(
            "source_fields",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("is_exists_fact", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("consent", sa.String(length=10), nullable=True),
        sa.Column("consented_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "values",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("source_org_name", sa.String(length=120), nullable=True),
        sa.Column("source_updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("upload_path", sa.String(length=200), nullable=True),
        sa.Column("upload_name", sa.String(length=200), nullable=True),
        sa.Column("upload_type", sa.String(length=60), nullable=True),
        sa.Column("upload_size", sa.Integer(), nullable=True),
        sa.Column("upload_sha256", sa.String(length=64), nullable=True),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "consent IS NULL OR consent IN ('given', 'declined')", name=op.f("ck_services_evidence_consent")
        ),
        sa.CheckConstraint(
            "state IN ('pending', 'fetched', 'unavailable', 'uploaded', 'pledged', 'attached', 'onsite')",
            name=op.f("ck_services_evidence_state"),
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["services_application.id"],
            name=op.f("fk_services_evidence_application_id_services_application"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_services_evidence")),
        sa.UniqueConstraint(
            "application_id", "position", name=op.f("uq_services_evidence_application_id_position")
        ),
    )
    op.create_table(
        "services_form_field",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("application_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column(
            "value",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("source_label", sa.String(length=120), nullable=True),
        sa.Column("source_date", sa.DateTime(timezone=True), nullable=True),
        sa.Column("is_locked", sa.Boolean(), nullable=False),
        sa.Column("material_position", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "source IN ('datahub', 'identity', 'applicant')", name=op.f("ck_services_form_field_source")
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["services_application.id"],
            name=op.f("fk_services_form_field_application_id_services_application"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_services_form_field")),
        sa.UniqueConstraint(
            "application_id", "name", name=op.f("uq_services_form_field_application_id_name")
        ),
    )
    op.create_table(
        "services_transition",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("application_id", sa.Uuid(), nullable=False),
        sa.Column("from_status", sa.String(length=12), nullable=True),
        sa.Column("to_status", sa.String(length=12), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by", sa.String(length=120), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["services_application.id"],
            name=op.f("fk_services_transition_application_id_services_application"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_services_transition")),
    )
    with op.batch_alter_table("services_transition", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_services_transition_application_id"), ["application_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("services_transition", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_services_transition_application_id"))

    op.drop_table("services_transition")
    op.drop_table("services_form_field")
    op.drop_table("services_evidence")
    with op.batch_alter_table("services_application", schema=None) as batch_op:
        batch_op.drop_index("ix_services_application_queue")
        batch_op.drop_index("ix_services_application_filer")
        batch_op.drop_index(batch_op.f("ix_services_application_division_code"))
        batch_op.drop_index(batch_op.f("ix_services_application_applicant_key"))

    op.drop_table("services_application")
    op.drop_table("services_rule_set")
