"""Booking: sites and their services, slot templates and slots with capacity, closures, registration
profiles (建档), appointments with their idempotency keys, waitlists, and vaccinations given at sites.

The partial unique index ``uq_booking_appointment_one_active`` allows one active appointment per person
and series; the check ``ck_booking_slot_seats`` keeps every slot within its capacity.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "booking_profile",
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("resident_id", sa.String(length=18), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("sex", sa.String(length=6), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("household_no", sa.String(length=20), nullable=True),
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("source_org_name", sa.String(length=120), nullable=True),
        sa.Column("source_updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("consented_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_person_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("sex IN ('male', 'female')", name=op.f("ck_booking_profile_sex")),
        sa.ForeignKeyConstraint(
            ["created_by_person_id"],
            ["identity_person.id"],
            name=op.f("fk_booking_profile_created_by_person_id_identity_person"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["identity_person.id"], name=op.f("fk_booking_profile_person_id_identity_person")
        ),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_booking_profile")),
        sa.UniqueConstraint("resident_id", name=op.f("uq_booking_profile_resident_id")),
    )
    op.create_table(
        "booking_site",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column(
            "opening_hours",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "latitude BETWEEN -90 AND 90 AND longitude BETWEEN -180 AND 180",
            name=op.f("ck_booking_site_coordinates"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["identity_org.id"], name=op.f("fk_booking_site_org_id_identity_org")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booking_site")),
        sa.UniqueConstraint("code", name=op.f("uq_booking_site_code")),
    )
    op.create_index(op.f("ix_booking_site_division_code"), "booking_site", ["division_code"], unique=False)
    op.create_index(op.f("ix_booking_site_org_id"), "booking_site", ["org_id"], unique=False)
    op.create_table(
        "booking_service",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("product_code", sa.String(length=40), nullable=False),
        sa.Column("has_waitlist", sa.Boolean(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"], ["booking_site.id"], name=op.f("fk_booking_service_site_id_booking_site")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booking_service")),
        sa.UniqueConstraint("site_id", "product_code", name=op.f("uq_booking_service_site_id_product_code")),
    )
    op.create_index(
        op.f("ix_booking_service_product_code"), "booking_service", ["product_code"], unique=False
    )
    op.create_table(
        "booking_closure",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=True),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("closed_by", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("last_day >= first_day", name=op.f("ck_booking_closure_period")),
        sa.ForeignKeyConstraint(
            ["service_id"], ["booking_service.id"], name=op.f("fk_booking_closure_service_id_booking_service")
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["booking_site.id"], name=op.f("fk_booking_closure_site_id_booking_site")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booking_closure")),
    )
    op.create_index(op.f("ix_booking_closure_site_id"), "booking_closure", ["site_id"], unique=False)
    op.create_table(
        "booking_slot_template",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.Time(), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("capacity BETWEEN 1 AND 100000", name=op.f("ck_booking_slot_template_capacity")),
        sa.CheckConstraint("minutes BETWEEN 5 AND 720", name=op.f("ck_booking_slot_template_minutes")),
        sa.CheckConstraint("weekday BETWEEN 1 AND 7", name=op.f("ck_booking_slot_template_weekday")),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["booking_service.id"],
            name=op.f("fk_booking_slot_template_service_id_booking_service"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booking_slot_template")),
    )
    op.create_index(
        op.f("ix_booking_slot_template_service_id"), "booking_slot_template", ["service_id"], unique=False
    )
    op.create_table(
        "booking_slot",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("template_id", sa.Integer(), nullable=True),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("booked", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("closed_reason", sa.Text(), nullable=True),
        sa.CheckConstraint("status IN ('open', 'closed')", name=op.f("ck_booking_slot_status")),
        sa.CheckConstraint("booked >= 0 AND booked <= capacity", name=op.f("ck_booking_slot_seats")),
        sa.CheckConstraint("capacity >= 0", name=op.f("ck_booking_slot_capacity")),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_booking_slot_period")),
        sa.ForeignKeyConstraint(
            ["service_id"], ["booking_service.id"], name=op.f("fk_booking_slot_service_id_booking_service")
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["booking_site.id"], name=op.f("fk_booking_slot_site_id_booking_site")
        ),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["booking_slot_template.id"],
            name=op.f("fk_booking_slot_template_id_booking_slot_template"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booking_slot")),
        sa.UniqueConstraint("service_id", "starts_at", name=op.f("uq_booking_slot_service_id_starts_at")),
    )
    op.create_index("ix_booking_slot_day_service", "booking_slot", ["day", "service_id"], unique=False)
    op.create_index("ix_booking_slot_site_day", "booking_slot", ["site_id", "day"], unique=False)
    op.create_table(
        "booking_appointment",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.String(length=16), nullable=False),
        sa.Column("slot_id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("booked_by_person_id", sa.Uuid(), nullable=False),
        sa.Column("resident_id", sa.String(length=18), nullable=False),
        sa.Column("product_code", sa.String(length=40), nullable=False),
        sa.Column("series", sa.String(length=80), nullable=False),
        sa.Column("dose", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("qr_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_by", sa.String(length=8), nullable=True),
        sa.Column("cancel_reason", sa.Text(), nullable=True),
        sa.Column("checked_in_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("checked_in_by", sa.String(length=120), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rescheduled_count", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "cancelled_by IS NULL OR cancelled_by IN ('person', 'site', 'system')",
            name=op.f("ck_booking_appointment_cancelled_by"),
        ),
        sa.CheckConstraint(
            "status IN ('booked', 'checked_in', 'completed', 'cancelled', 'no_show')",
            name=op.f("ck_booking_appointment_status"),
        ),
        sa.CheckConstraint("dose >= 1", name=op.f("ck_booking_appointment_dose")),
        sa.ForeignKeyConstraint(
            ["booked_by_person_id"],
            ["identity_person.id"],
            name=op.f("fk_booking_appointment_booked_by_person_id_identity_person"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["identity_person.id"],
            name=op.f("fk_booking_appointment_person_id_identity_person"),
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["booking_service.id"],
            name=op.f("fk_booking_appointment_service_id_booking_service"),
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["booking_site.id"], name=op.f("fk_booking_appointment_site_id_booking_site")
        ),
        sa.ForeignKeyConstraint(
            ["slot_id"], ["booking_slot.id"], name=op.f("fk_booking_appointment_slot_id_booking_slot")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booking_appointment")),
        sa.UniqueConstraint("number", name=op.f("uq_booking_appointment_number")),
        sa.UniqueConstraint("qr_token", name=op.f("uq_booking_appointment_qr_token")),
    )
    op.create_index(
        op.f("ix_booking_appointment_booked_by_person_id"),
        "booking_appointment",
        ["booked_by_person_id"],
        unique=False,
    )
    op.create_index(
        "ix_booking_appointment_day_status", "booking_appointment", ["day", "status"], unique=False
    )
    op.create_index(
        "ix_booking_appointment_person", "booking_appointment", ["person_id", "created_at"], unique=False
    )
    op.create_index(
        "ix_booking_appointment_site_day", "booking_appointment", ["site_id", "day"], unique=False
    )
    op.create_index(
        "ix_booking_appointment_slot_status", "booking_appointment", ["slot_id", "status"], unique=False
    )
    op.create_index(
        "uq_booking_appointment_one_active",
        "booking_appointment",
        ["person_id", "series"],
        unique=True,
        sqlite_where=sa.text("status IN ('booked', 'checked_in')"),
        postgresql_where=sa.text("status IN ('booked', 'checked_in')"),
    )
    op.create_table(
        "booking_administration",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("appointment_id", sa.Uuid(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("resident_id", sa.String(length=18), nullable=False),
        sa.Column("product_code", sa.String(length=40), nullable=False),
        sa.Column("vaccine_kind", sa.String(length=40), nullable=False),
        sa.Column("dose", sa.Integer(), nullable=False),
        sa.Column("lot", sa.String(length=16), nullable=False),
        sa.Column("administered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("administered_by", sa.String(length=120), nullable=False),
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column("certificate_number", sa.String(length=80), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("dose >= 1", name=op.f("ck_booking_administration_dose")),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["booking_appointment.id"],
            name=op.f("fk_booking_administration_appointment_id_booking_appointment"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["identity_person.id"],
            name=op.f("fk_booking_administration_person_id_identity_person"),
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["booking_site.id"], name=op.f("fk_booking_administration_site_id_booking_site")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booking_administration")),
        sa.UniqueConstraint("appointment_id", name=op.f("uq_booking_administration_appointment_id")),
    )
    op.create_index(
        op.f("ix_booking_administration_division_code"),
        "booking_administration",
        ["division_code"],
        unique=False,
    )
    op.create_table(
        "booking_idempotency_key",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("request_digest", sa.String(length=64), nullable=False),
        sa.Column("appointment_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["booking_appointment.id"],
            name=op.f("fk_booking_idempotency_key_appointment_id_booking_appointment"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["identity_person.id"],
            name=op.f("fk_booking_idempotency_key_person_id_identity_person"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booking_idempotency_key")),
        sa.UniqueConstraint("person_id", "key", name=op.f("uq_booking_idempotency_key_person_id_key")),
    )
    op.create_table(
        "booking_waitlist_entry",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("slot_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("booked_by_person_id", sa.Uuid(), nullable=False),
        sa.Column("series", sa.String(length=80), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("appointment_id", sa.Uuid(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('waiting', 'promoted', 'withdrawn', 'expired')",
            name=op.f("ck_booking_waitlist_entry_status"),
        ),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["booking_appointment.id"],
            name=op.f("fk_booking_waitlist_entry_appointment_id_booking_appointment"),
        ),
        sa.ForeignKeyConstraint(
            ["booked_by_person_id"],
            ["identity_person.id"],
            name=op.f("fk_booking_waitlist_entry_booked_by_person_id_identity_person"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["identity_person.id"],
            name=op.f("fk_booking_waitlist_entry_person_id_identity_person"),
        ),
        sa.ForeignKeyConstraint(
            ["slot_id"], ["booking_slot.id"], name=op.f("fk_booking_waitlist_entry_slot_id_booking_slot")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booking_waitlist_entry")),
    )
    op.create_index("ix_booking_waitlist_entry_person", "booking_waitlist_entry", ["person_id"], unique=False)
    op.create_index(
        "ix_booking_waitlist_entry_slot_status",
        "booking_waitlist_entry",
        ["slot_id", "status", "id"],
        unique=False,
    )
    op.create_index(
        "uq_booking_waitlist_entry_one_waiting",
        "booking_waitlist_entry",
        ["slot_id", "person_id"],
        unique=True,
        sqlite_where=sa.text("status = 'waiting'"),
        postgresql_where=sa.text("status = 'waiting'"),
    )


def downgrade() -> None:
    op.drop_index(
        "uq_booking_waitlist_entry_one_waiting",
        table_name="booking_waitlist_entry",
        sqlite_where=sa.text("status = 'waiting'"),
        postgresql_where=sa.text("status = 'waiting'"),
    )
    op.drop_index("ix_booking_waitlist_entry_slot_status", table_name="booking_waitlist_entry")
    op.drop_index("ix_booking_waitlist_entry_person", table_name="booking_waitlist_entry")
    op.drop_table("booking_waitlist_entry")
    op.drop_table("booking_idempotency_key")
    op.drop_index(op.f("ix_booking_administration_division_code"), table_name="booking_administration")
    op.drop_table("booking_administration")
    op.drop_index(
        "uq_booking_appointment_one_active",
        table_name="booking_appointment",
        sqlite_where=sa.text("status IN ('booked', 'checked_in')"),
        postgresql_where=sa.text("status IN ('booked', 'checked_in')"),
    )
    op.drop_index("ix_booking_appointment_slot_status", table_name="booking_appointment")
    op.drop_index("ix_booking_appointment_site_day", table_name="booking_appointment")
    op.drop_index("ix_booking_appointment_person", table_name="booking_appointment")
    op.drop_index("ix_booking_appointment_day_status", table_name="booking_appointment")
    op.drop_index(op.f("ix_booking_appointment_booked_by_person_id"), table_name="booking_appointment")
    op.drop_table("booking_appointment")
    op.drop_index("ix_booking_slot_site_day", table_name="booking_slot")
    op.drop_index("ix_booking_slot_day_service", table_name="booking_slot")
    op.drop_table("booking_slot")
    op.drop_index(op.f("ix_booking_slot_template_service_id"), table_name="booking_slot_template")
    op.drop_table("booking_slot_template")
    op.drop_index(op.f("ix_booking_closure_site_id"), table_name="booking_closure")
    op.drop_table("booking_closure")
    op.drop_index(op.f("ix_booking_service_product_code"), table_name="booking_service")
    op.drop_table("booking_service")
    op.drop_index(op.f("ix_booking_site_org_id"), table_name="booking_site")
    op.drop_index(op.f("ix_booking_site_division_code"), table_name="booking_site")
    op.drop_table("booking_site")
    op.drop_table("booking_profile")
