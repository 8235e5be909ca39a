"""legal amounts kept by an administrator, signatories by name, demonstration documents, workshop hours

Revision ID: 0009_montants_en_vigueur
Revises: 0008_journal_chain

Amounts added on top of config/montants.toml and their checks are chained in the journal (new tables, no
existing row changes its digest). Persons get what a signature block prints (office, delegation act);
documents remember whether a demonstration amount was used; projects get the workshop's opening hours and
the D412-22 authorisation; opérateurs the date of their classement au travail.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_montants_en_vigueur"
down_revision: str | Sequence[str] | None = "0008_journal_chain"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _chain_columns() -> list[sa.Column]:
    return [
        sa.Column("chain_seq", sa.Integer(), nullable=True),
        sa.Column("prev_digest", sa.String(length=64), nullable=True),
        sa.Column("digest", sa.String(length=64), nullable=True),
    ]


def upgrade() -> None:
    op.create_table(
        "montant",
        *_chain_columns(),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=60), nullable=False),
        sa.Column("value", sa.Numeric(precision=14, scale=6), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("source_date", sa.Date(), nullable=True),
        sa.Column("establishment_id", sa.Integer(), nullable=True),
        sa.Column("actor_label", sa.String(length=200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["establishment_id"], ["establishment.id"], name=op.f("fk_montant_establishment_id_establishment")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_montant")),
    )
    with op.batch_alter_table("montant", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_montant_chain_seq"), ["chain_seq"], unique=False)
        batch_op.create_index(batch_op.f("ix_montant_key"), ["key"], unique=False)
    op.create_table(
        "montant_verification",
        *_chain_columns(),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=60), nullable=False),
        sa.Column("checked_on", sa.Date(), nullable=False),
        sa.Column("actor_label", sa.String(length=200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_montant_verification")),
    )
    with op.batch_alter_table("montant_verification", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_montant_verification_chain_seq"), ["chain_seq"], unique=False)
        batch_op.create_index(batch_op.f("ix_montant_verification_key"), ["key"], unique=False)
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.add_column(sa.Column("office", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("signatory", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("delegation_act", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("delegation_date", sa.Date(), nullable=True))
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.alter_column("signatory", server_default=None)
    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("demonstration", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.alter_column("demonstration", server_default=None)
    with op.batch_alter_table("implantation_project", schema=None) as batch_op:
        batch_op.add_column(sa.Column("workshop_days", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("workshop_start", sa.String(length=5), nullable=True))
        batch_op.add_column(sa.Column("workshop_end", sa.String(length=5), nullable=True))
        batch_op.add_column(sa.Column("work_authorisation", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("work_authorisation_date", sa.Date(), nullable=True))
    with op.batch_alter_table("operateur", schema=None) as batch_op:
        batch_op.add_column(sa.Column("classified_on", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("operateur", schema=None) as batch_op:
        batch_op.drop_column("classified_on")
    with op.batch_alter_table("implantation_project", schema=None) as batch_op:
        for name in (
            "work_authorisation_date",
            "work_authorisation",
            "workshop_end",
            "workshop_start",
            "workshop_days",
        ):
            batch_op.drop_column(name)
    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.drop_column("demonstration")
    with op.batch_alter_table("person", schema=None) as batch_op:
        for name in ("delegation_date", "delegation_act", "signatory", "office"):
            batch_op.drop_column(name)
    with op.batch_alter_table("montant_verification", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_montant_verification_key"))
        batch_op.drop_index(batch_op.f("ix_montant_verification_chain_seq"))
    op.drop_table("montant_verification")
    with op.batch_alter_table("montant", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_montant_key"))
        batch_op.drop_index(batch_op.f("ix_montant_chain_seq"))
    op.drop_table("montant")
