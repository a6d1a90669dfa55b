"""Datahub: system-versioned records (ADR 0001). The current state lives only in ``datahub_record``, with who
changed it and a ``change_seq`` (the return feed's cursor); states that a change replaced move to
``datahub_record_history``; ``datahub_record_version`` goes; the record table loses its foreign keys.

Existing data is carried over: every version row older than its record's current version becomes a history
row (valid until the next version's time); the current version's author moves onto the record, and its id
becomes the record's ``change_seq``, so a feed cursor handed out before (a version id) still resumes without
loss or duplicates. On PostgreSQL the sequence starts after the highest version id.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    bind = op.get_bind()
    is_postgresql = bind.dialect.name == "postgresql"
    op.create_table(
        "datahub_record_history",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("record_id", BigId, nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("record_key", sa.String(length=300), nullable=False),
        sa.Column("division_code", sa.String(length=6), nullable=True),
        sa.Column(
            "data", sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column("is_deleted", sa.Boolean(), nullable=False),
        sa.Column("batch_id", sa.Uuid(), nullable=True),
        sa.Column("changed_by", sa.String(length=120), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("superseded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("change_seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_datahub_record_history")),
    )
    with op.batch_alter_table("datahub_record_history", schema=None) as batch_op:
        batch_op.create_index("ix_datahub_record_history_record", ["record_id", "version"], unique=False)

    # Superseded versions become history, each valid until the next version was written.
    op.execute(
        "INSERT INTO datahub_record_history (record_id, resource_id, version, record_key, division_code, data,"
        " is_deleted, batch_id, changed_by, changed_at, superseded_at, change_seq)"
        " SELECT v.record_id, v.resource_id, v.version, v.record_key, v.division_code, v.data,"
        " v.operation = 'delete', v.batch_id, v.changed_by, v.changed_at, v.superseded_at, v.id"
        " FROM (SELECT datahub_record_version.*, LEAD(changed_at) OVER"
        " (PARTITION BY record_id ORDER BY version, id) AS superseded_at FROM datahub_record_version) AS v"
        " JOIN datahub_record AS r ON r.id = v.record_id"
        " WHERE v.version < r.version AND v.superseded_at IS NOT NULL ORDER BY v.id"
    )
    with op.batch_alter_table("datahub_record", schema=None) as batch_op:
        batch_op.add_column(sa.Column("changed_by", sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column("change_seq", sa.BigInteger(), nullable=True))
    # The current version's author and id move onto the record; a record without versions (none should
    # exist) gets a cursor past every version id, so a consumer still receives it.
    op.execute(
        "UPDATE datahub_record SET"
        " changed_by = COALESCE((SELECT max(v.changed_by) FROM datahub_record_version v"
        "  WHERE v.record_id = datahub_record.id AND v.version = datahub_record.version), 'migration'),"
        " change_seq = COALESCE((SELECT max(v.id) FROM datahub_record_version v"
        "  WHERE v.record_id = datahub_record.id),"
        "  (SELECT COALESCE(max(id), 0) FROM datahub_record_version) + datahub_record.id)"
    )
    with op.batch_alter_table("datahub_record_version", schema=None) as batch_op:
        batch_op.drop_index("ix_datahub_record_version_record_id")
        batch_op.drop_index("ix_datahub_record_version_feed")
    op.drop_table("datahub_record_version")

    if is_postgresql:
        op.drop_constraint("fk_datahub_record_batch_id_datahub_batch", "datahub_record", type_="foreignkey")
        op.drop_constraint(
            "fk_datahub_record_resource_id_datahub_resource", "datahub_record", type_="foreignkey"
        )
        op.alter_column("datahub_record", "changed_by", nullable=False)
        op.alter_column("datahub_record", "change_seq", nullable=False)
        op.create_index("ix_datahub_record_feed", "datahub_record", ["resource_id", "change_seq"])
        op.execute("CREATE SEQUENCE datahub_record_change_seq OWNED BY datahub_record.change_seq")
        op.execute(
            "SELECT setval('datahub_record_change_seq',"
            " (SELECT COALESCE(max(change_seq), 0) + 1 FROM datahub_record), false)"
        )
        # Bulk COPYs of new records leave the column out and take the next numbers in row order.
        op.execute(
            "ALTER TABLE datahub_record ALTER COLUMN change_seq SET DEFAULT nextval('datahub_record_change_seq')"
        )
        return

    # SQLite rebuilds the table to drop its foreign keys, and dropping the old table would break the
    # objections that refer to its rows (foreign keys are on inside this transaction): set them aside
    # until the rebuilt table has taken the old one's name.
    op.execute("CREATE TEMPORARY TABLE objection_aside AS SELECT * FROM datahub_objection")
    op.execute("DELETE FROM datahub_objection")
    with op.batch_alter_table("datahub_record", schema=None, recreate="always") as batch_op:
        batch_op.drop_constraint("fk_datahub_record_batch_id_datahub_batch", type_="foreignkey")
        batch_op.drop_constraint("fk_datahub_record_resource_id_datahub_resource", type_="foreignkey")
        batch_op.alter_column("changed_by", existing_type=sa.String(length=120), nullable=False)
        batch_op.alter_column("change_seq", existing_type=sa.BigInteger(), nullable=False)
        batch_op.create_index("ix_datahub_record_feed", ["resource_id", "change_seq"], unique=False)
    op.execute("INSERT INTO datahub_objection SELECT * FROM objection_aside")
    op.execute("DROP TABLE objection_aside")


def downgrade() -> None:
    raise NotImplementedError("0005 folds versions into history; restore from a backup to go back")
