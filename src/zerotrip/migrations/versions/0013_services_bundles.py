"""Services: bundles (一件事) and their parts in the catalogue; bundle applications with their parts (each an
application of the part's item, with the parts it needs) and the datahub sources read once for all parts.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "services_bundle",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=True),
        sa.Column("life_event", sa.String(length=24), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("conditions", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_services_bundle")),
        sa.UniqueConstraint("code", name=op.f("uq_services_bundle_code")),
    )
    with op.batch_alter_table("services_bundle", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_services_bundle_life_event"), ["life_event"], unique=False)

    op.create_table(
        "services_bundle_application",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.String(length=16), nullable=False),
        sa.Column("bundle_id", sa.Integer(), nullable=False),
        sa.Column("bundle_version", sa.Integer(), nullable=False),
        sa.Column("applicant_kind", sa.String(length=10), nullable=False),
        sa.Column("applicant_key", sa.String(length=18), nullable=False),
        sa.Column("applicant_name", sa.String(length=120), nullable=False),
        sa.Column("filed_by_person_id", sa.Uuid(), nullable=False),
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("pledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "applicant_kind IN ('person', 'enterprise')",
            name=op.f("ck_services_bundle_application_applicant_kind"),
        ),
        sa.CheckConstraint(
            "state IN ('draft', 'submitted', 'withdrawn')", name=op.f("ck_services_bundle_application_state")
        ),
        sa.ForeignKeyConstraint(
            ["bundle_id"],
            ["services_bundle.id"],
            name=op.f("fk_services_bundle_application_bundle_id_services_bundle"),
        ),
        sa.ForeignKeyConstraint(
            ["filed_by_person_id"],
            ["identity_person.id"],
            name=op.f("fk_services_bundle_application_filed_by_person_id_identity_person"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_services_bundle_application")),
        sa.UniqueConstraint("number", name=op.f("uq_services_bundle_application_number")),
    )
    with op.batch_alter_table("services_bundle_application", schema=None) as batch_op:
        batch_op.create_index(
            "ix_services_bundle_application_filer", ["filed_by_person_id", "created_at"], unique=False
        )

    op.create_table(
        "services_bundle_part",
        sa.Column("bundle_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["bundle_id"],
            ["services_bundle.id"],
            name=op.f("fk_services_bundle_part_bundle_id_services_bundle"),
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["services_item.id"], name=op.f("fk_services_bundle_part_item_id_services_item")
        ),
        sa.PrimaryKeyConstraint("bundle_id", "position", name=op.f("pk_services_bundle_part")),
        sa.UniqueConstraint("bundle_id", "item_id", name=op.f("uq_services_bundle_part_bundle_id_item_id")),
    )
    with op.batch_alter_table("services_bundle_part", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_services_bundle_part_item_id"), ["item_id"], unique=False)

    op.create_table(
        "services_bundle_source",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("bundle_application_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("material_name", sa.String(length=120), nullable=False),
        sa.Column("source_ref", sa.String(length=80), nullable=False),
        sa.Column(
            "source_fields",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("is_exists_fact", sa.Boolean(), nullable=False),
        sa.Column(
            "feeds",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
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
        sa.Column("upload_name", sa.String(length=200), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "consent IS NULL OR consent IN ('given', 'declined')",
            name=op.f("ck_services_bundle_source_consent"),
        ),
        sa.CheckConstraint(
            "state IN ('pending', 'fetched', 'unavailable', 'uploaded')",
            name=op.f("ck_services_bundle_source_state"),
        ),
        sa.ForeignKeyConstraint(
            ["bundle_application_id"],
            ["services_bundle_application.id"],
            name=op.f("fk_services_bundle_source_bundle_application_id_services_bundle_application"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_services_bundle_source")),
        sa.UniqueConstraint(
            "bundle_application_id",
            "position",
            name=op.f("uq_services_bundle_source_bundle_application_id_position"),
        ),
    )
    op.create_table(
        "services_bundle_member",
        sa.Column("bundle_application_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Uuid(), nullable=False),
        sa.Column(
            "needs",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["services_application.id"],
            name=op.f("fk_services_bundle_member_application_id_services_application"),
        ),
        sa.ForeignKeyConstraint(
            ["bundle_application_id"],
            ["services_bundle_application.id"],
            name=op.f("fk_services_bundle_member_bundle_application_id_services_bundle_application"),
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["services_item.id"], name=op.f("fk_services_bundle_member_item_id_services_item")
        ),
        sa.PrimaryKeyConstraint("bundle_application_id", "position", name=op.f("pk_services_bundle_member")),
        sa.UniqueConstraint("application_id", name=op.f("uq_services_bundle_member_application_id")),
    )


def downgrade() -> None:
    op.drop_table("services_bundle_member")
    op.drop_table("services_bundle_source")
    with op.batch_alter_table("services_bundle_part", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_services_bundle_part_item_id"))

    op.drop_table("services_bundle_part")
    with op.batch_alter_table("services_bundle_application", schema=None) as batch_op:
        batch_op.drop_index("ix_services_bundle_application_filer")

    op.drop_table("services_bundle_application")
    with op.batch_alter_table("services_bundle", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_services_bundle_life_event"))

    op.drop_table("services_bundle")
