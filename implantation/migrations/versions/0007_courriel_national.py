"""e-mails not tied to one project (the national overview to ATIGIP) are recorded once too

Revision ID: 0007_courriel_national
Revises: 0006_dossier
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_courriel_national"
down_revision: str | Sequence[str] | None = "0006_dossier"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.alter_column("project_id", existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM notification WHERE project_id IS NULL")
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.alter_column("project_id", existing_type=sa.Integer(), nullable=False)
