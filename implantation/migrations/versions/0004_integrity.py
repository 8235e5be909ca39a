"""integrity: decision lock counter, next stage and attempt in the log, pending e-mail claims, CHECK constraints

Revision ID: 0004_integrity
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_integrity"
down_revision: str | Sequence[str] | None = "0003_journal"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The bounds declared by ``Field(ge=…, le=…)`` on the table models (``models.bound_checks``), spelt out so
# that this revision keeps working whatever the models become.
CHECKS: dict[str, dict[str, str]] = {
    "establishment": {"capacity_bounds": "capacity >= 0"},
    "implantation_project": {
        "current_stage_bounds": "current_stage >= 1",
        "insertion_posts_etp_bounds": "insertion_posts_etp >= 0",
        "insertion_posts_count_bounds": "insertion_posts_count >= 0",
        "modulated_share_bounds": "modulated_share >= 0",
        "workshops_count_bounds": "workshops_count >= 0",
        "staff_eti_etp_bounds": "staff_eti_etp >= 0",
        "staff_cip_etp_bounds": "staff_cip_etp >= 0",
    },
    "stage_record": {
        "stage_bounds": "stage >= 1",
        "attempt_bounds": "attempt >= 0",
        "version_bounds": "version >= 0",
    },
    "transition_log": {
        "stage_bounds": "stage >= 1",
        "next_stage_bounds": "next_stage >= 1",
        "next_attempt_bounds": "next_attempt >= 1",
    },
    "copil_meeting": {"stage_bounds": "stage >= 1"},
    "deliverable": {"stage_bounds": "stage >= 1"},
    "operateur": {
        "quantum_months_bounds": "quantum_months >= 0",
        "weekly_hours_bounds": "weekly_hours > 0 AND weekly_hours <= 48",
        "planned_duration_months_bounds": "planned_duration_months >= 1",
        "trial_days_bounds": "trial_days >= 0",
        "hourly_rate_bounds": "hourly_rate > 0",
    },
    "document": {"version_bounds": "version >= 1"},
    "notification": {"stage_bounds": "stage >= 1"},
}


def upgrade() -> None:
    with op.batch_alter_table("stage_record", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("transition_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("next_stage", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("next_attempt", sa.Integer(), nullable=True))
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pending", sa.Boolean(), nullable=False, server_default=sa.false()))
    for table, checks in CHECKS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, condition in checks.items():
                batch_op.create_check_constraint(op.f(f"ck_{table}_{name}"), condition)


def downgrade() -> None:
    for table, checks in CHECKS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name in checks:
                batch_op.drop_constraint(op.f(f"ck_{table}_{name}"), type_="check")
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_column("pending")
    with op.batch_alter_table("transition_log", schema=None) as batch_op:
        batch_op.drop_column("next_attempt")
        batch_op.drop_column("next_stage")
    with op.batch_alter_table("stage_record", schema=None) as batch_op:
        batch_op.drop_column("version")
