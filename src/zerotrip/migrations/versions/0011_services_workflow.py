"""Services: the staff workflow (each application's office path, its steps, deadline, paused clock and
escalation; refusal reasons; the step a transition concerns), supplement requests (补正) with their items,
and ratings (好差评) with the department's rectification answer.

Applications made before this revision get their office's path and their item's current steps.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "services_rating",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("application_id", sa.Uuid(), nullable=False),
        sa.Column("department_org_id", sa.Integer(), nullable=False),
        sa.Column("department_path", sa.String(length=255), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("tags", JSON, nullable=False),
        sa.Column("rated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rated_by", sa.String(length=120), nullable=False),
        sa.Column("rectification", sa.Text(), nullable=True),
        sa.Column("rectified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rectified_by", sa.String(length=120), nullable=True),
        sa.CheckConstraint(
            "rectification IS NULL OR score <= 2", name=op.f("ck_services_rating_rectification_of_bad_ones")
        ),
        sa.CheckConstraint("score >= 1 AND score <= 5", name=op.f("ck_services_rating_score")),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["services_application.id"],
            name=op.f("fk_services_rating_application_id_services_application"),
        ),
        sa.ForeignKeyConstraint(
            ["department_org_id"],
            ["identity_org.id"],
            name=op.f("fk_services_rating_department_org_id_identity_org"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_services_rating")),
        sa.UniqueConstraint("application_id", name=op.f("uq_services_rating_application_id")),
    )
    with op.batch_alter_table("services_rating", schema=None) as batch_op:
        batch_op.create_index(
            "ix_services_rating_department", ["department_path", "department_org_id"], unique=False
        )

    op.create_table(
        "services_supplement_request",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("application_id", sa.Uuid(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("requested_by", sa.String(length=120), nullable=False),
        sa.Column("resubmitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("paused_working_days", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["services_application.id"],
            name=op.f("fk_services_supplement_request_application_id_services_application"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_services_supplement_request")),
        sa.UniqueConstraint(
            "application_id", "sequence", name=op.f("uq_services_supplement_request_application_id_sequence")
        ),
    )
    op.create_table(
        "services_supplement_item",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("material_position", sa.Integer(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("answer_text", sa.Text(), nullable=True),
        sa.Column("upload_path", sa.String(length=200), nullable=True),
        sa.Column("upload_name", sa.String(length=200), nullable=True),
        sa.Column("upload_type", sa.String(length=60), nullable=True),
        sa.Column("upload_size", sa.Integer(), nullable=True),
        sa.Column("upload_sha256", sa.String(length=64), nullable=True),
        sa.Column("replaced", JSON, nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["services_supplement_request.id"],
            name=op.f("fk_services_supplement_item_request_id_services_supplement_request"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_services_supplement_item")),
        sa.UniqueConstraint(
            "request_id", "position", name=op.f("uq_services_supplement_item_request_id_position")
        ),
    )

    with op.batch_alter_table("services_application", schema=None) as batch_op:
        batch_op.add_column(sa.Column("department_path", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("steps", JSON, nullable=True))
        batch_op.add_column(sa.Column("step_index", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("due_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("paused_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("paused_working_days", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )
        batch_op.add_column(sa.Column("resume_status", sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("escalated_to_org_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("escalated_to_path", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("refusal_reasons", JSON, nullable=True))

    _backfill()

    with op.batch_alter_table("services_application", schema=None) as batch_op:
        batch_op.alter_column("department_path", existing_type=sa.String(length=255), nullable=False)
        batch_op.alter_column("steps", existing_type=JSON, nullable=False)
        batch_op.create_check_constraint(
            op.f("ck_services_application_resume_status"),
            "resume_status IS NULL OR resume_status IN ('submitted', 'accepted', 'in_review')",
        )
        batch_op.create_index(
            "ix_services_application_escalated", ["escalated_to_path", "status"], unique=False
        )
        batch_op.create_index(
            "ix_services_application_office", ["department_path", "status", "due_at"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_services_application_escalated_to_org_id_identity_org"),
            "identity_org",
            ["escalated_to_org_id"],
            ["id"],
        )

    with op.batch_alter_table("services_transition", schema=None) as batch_op:
        batch_op.add_column(sa.Column("step", sa.String(length=60), nullable=True))


def _backfill() -> None:
    """The office's path and the item's steps for the applications already made (a few in a demo)."""
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT a.id, a.item_id, o.path FROM services_application a"
            " JOIN identity_org o ON o.id = a.department_org_id"
        )
    ).all()
    steps_of: dict[int, list[dict[str, str]]] = {}
    for application_id, item_id, path in rows:
        if item_id not in steps_of:
            steps = bind.execute(
                sa.text(
                    "SELECT kind, name, presence FROM services_step WHERE item_id = :item ORDER BY position"
                ),
                {"item": item_id},
            ).all()
            steps_of[item_id] = [{"kind": k, "name": n, "presence": p} for k, n, p in steps]
        bind.execute(
            sa.text(
                "UPDATE services_application SET department_path = :path, steps = :steps WHERE id = :id"
            ).bindparams(sa.bindparam("steps", type_=JSON)),
            {"path": path, "steps": steps_of[item_id], "id": application_id},
        )


def downgrade() -> None:
    with op.batch_alter_table("services_transition", schema=None) as batch_op:
        batch_op.drop_column("step")

    with op.batch_alter_table("services_application", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_services_application_escalated_to_org_id_identity_org"), type_="foreignkey"
        )
        batch_op.drop_constraint(op.f("ck_services_application_resume_status"), type_="check")
        batch_op.drop_index("ix_services_application_office")
        batch_op.drop_index("ix_services_application_escalated")
        for column in (
            "refusal_reasons",
            "escalated_to_path",
            "escalated_to_org_id",
            "escalated_at",
            "resume_status",
            "paused_working_days",
            "paused_at",
            "due_at",
            "accepted_at",
            "step_index",
            "steps",
            "department_path",
        ):
            batch_op.drop_column(column)

    op.drop_table("services_supplement_item")
    op.drop_table("services_supplement_request")
    with op.batch_alter_table("services_rating", schema=None) as batch_op:
        batch_op.drop_index("ix_services_rating_department")
    op.drop_table("services_rating")
