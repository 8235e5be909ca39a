"""project facts entered by their users: change log, joint lead, posts, end of a CEP

Revision ID: 0006_dossier
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_dossier"
down_revision: str | Sequence[str] | None = "0005_horloge"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "fact_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=60), nullable=False),
        sa.Column("old_value", sa.Text(), nullable=True),
        sa.Column("new_value", sa.Text(), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_label", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=300), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["person.id"], name=op.f("fk_fact_change_actor_id_person")),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["implantation_project.id"],
            name=op.f("fk_fact_change_project_id_implantation_project"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fact_change")),
    )
    with op.batch_alter_table("fact_change", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_fact_change_project_id"), ["project_id"], unique=False)
    with op.batch_alter_table("implantation_project", schema=None) as batch_op:
        batch_op.add_column(sa.Column("joint_lead", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("posts", sa.JSON(), nullable=True))
    with op.batch_alter_table("operateur", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ended_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("end_reason", sa.String(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("operateur", schema=None) as batch_op:
        batch_op.drop_column("end_reason")
        batch_op.drop_column("ended_on")
    with op.batch_alter_table("implantation_project", schema=None) as batch_op:
        batch_op.drop_column("posts")
        batch_op.drop_column("joint_lead")
    with op.batch_alter_table("fact_change", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fact_change_project_id"))
    op.drop_table("fact_change")
