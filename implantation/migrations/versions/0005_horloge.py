"""stage clock suspension, planned COPILs, calendar event sequences

Revision ID: 0005_horloge
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_horloge"
down_revision: str | Sequence[str] | None = "0004_integrity"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("stage_record", schema=None) as batch_op:
        batch_op.add_column(sa.Column("suspended_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("suspended_days", sa.Integer(), nullable=False, server_default="0"))
        # The model's ``Field(ge=0)``, as every bound (see ``models.bound_checks``).
        batch_op.create_check_constraint(op.f("ck_stage_record_suspended_days_bounds"), "suspended_days >= 0")
    with op.batch_alter_table("copil_meeting", schema=None) as batch_op:
        batch_op.add_column(sa.Column("planned", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        "calendar_event",
        sa.Column("uid", sa.String(length=200), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("summary", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["implantation_project.id"],
            name=op.f("fk_calendar_event_project_id_implantation_project"),
        ),
        sa.PrimaryKeyConstraint("uid", name=op.f("pk_calendar_event")),
        sa.CheckConstraint("sequence >= 0", name=op.f("ck_calendar_event_sequence_bounds")),
    )
    with op.batch_alter_table("calendar_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_calendar_event_project_id"), ["project_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("calendar_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_calendar_event_project_id"))
    op.drop_table("calendar_event")
    with op.batch_alter_table("copil_meeting", schema=None) as batch_op:
        batch_op.drop_column("planned")
    with op.batch_alter_table("stage_record", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_stage_record_suspended_days_bounds"), type_="check")
        batch_op.drop_column("suspended_days")
        batch_op.drop_column("suspended_on")
