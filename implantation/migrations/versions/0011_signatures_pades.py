"""proofs of signatures: verified PAdES signatures and witnessed handwritten scans

Revision ID: 0011_signatures_pades
Revises: 0010_document_bytes

A new table chained in the journal (no existing row changes its digest). Signatures recorded before
this revision have no proof: they are « signatures déclarées ».
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_signatures_pades"
down_revision: str | Sequence[str] | None = "0010_document_bytes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "signature_preuve",
        sa.Column("chain_seq", sa.Integer(), nullable=True),
        sa.Column("prev_digest", sa.String(length=64), nullable=True),
        sa.Column("digest", sa.String(length=64), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("signature_id", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("file_id", sa.Integer(), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("field_name", sa.String(length=200), nullable=True),
        sa.Column("subject", sa.String(length=500), nullable=True),
        sa.Column("serial", sa.String(length=80), nullable=True),
        sa.Column("issuer", sa.String(length=500), nullable=True),
        sa.Column("signing_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("validation", sa.String(length=500), nullable=False),
        sa.Column("demonstration", sa.Boolean(), nullable=False),
        sa.Column("witness_label", sa.String(length=200), nullable=True),
        sa.Column("witnessed_on", sa.Date(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["file_id"], ["document_file.id"], name=op.f("fk_signature_preuve_file_id_document_file")
        ),
        sa.ForeignKeyConstraint(
            ["signature_id"], ["signature.id"], name=op.f("fk_signature_preuve_signature_id_signature")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signature_preuve")),
    )
    with op.batch_alter_table("signature_preuve", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_signature_preuve_chain_seq"), ["chain_seq"], unique=False)
        batch_op.create_index(batch_op.f("ix_signature_preuve_signature_id"), ["signature_id"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("signature_preuve", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_signature_preuve_signature_id"))
        batch_op.drop_index(batch_op.f("ix_signature_preuve_chain_seq"))
    op.drop_table("signature_preuve")
