"""exact decimals for money, ETP and hours; an opérateur's weekly schedule

Revision ID: 0002_montants
Revises: 0001

Money, ETP and weekly hours were floats; documents print them and compute amounts from them, so they
become NUMERIC (Decimal in Python). Batch mode copies the tables on SQLite, which cannot ALTER a type.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_montants"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = {
    "implantation_project": {
        "insertion_posts_etp": (8, 2),
        "modulated_share": (6, 4),
        "staff_eti_etp": (8, 2),
        "staff_cip_etp": (8, 2),
    },
    "operateur": {"weekly_hours": (5, 2), "hourly_rate": (8, 2)},
}


def upgrade() -> None:
    with op.batch_alter_table("operateur", schema=None) as batch_op:
        batch_op.add_column(sa.Column("schedule", sa.JSON(), nullable=True))
    for table, columns in COLUMNS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, (precision, scale) in columns.items():
                batch_op.alter_column(
                    name,
                    existing_type=sa.Float(),
                    type_=sa.Numeric(precision=precision, scale=scale),
                    existing_nullable=True,
                    postgresql_using=f"round({name}::numeric, {scale})",
                )


def downgrade() -> None:
    with op.batch_alter_table("operateur", schema=None) as batch_op:
        batch_op.drop_column("schedule")
    for table, columns in COLUMNS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, (precision, scale) in columns.items():
                batch_op.alter_column(
                    name,
                    existing_type=sa.Numeric(precision=precision, scale=scale),
                    type_=sa.Float(),
                    existing_nullable=True,
                    postgresql_using=f"{name}::double precision",
                )
