"""hash-chained journal: decisions, documents and signatures in one SHA-256 chain

Revision ID: 0003_journal
Revises: 0001

The rows written before this revision are chained here, in the order they were written (their timestamp,
then decisions before documents before signatures, then id). The encoding is a frozen copy of
``implantation.db.journal`` (revisions do not import application code); a test checks that the
application verifies the chain this revision computes.
"""

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0003_journal"
down_revision: str | Sequence[str] | None = "0002_montants"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS = "0" * 64
TABLES: dict[str, tuple[str, dict[str, Any]]] = {
    "transition_log": (
        "at",
        {
            "id": sa.Integer,
            "project_id": sa.Integer,
            "stage": sa.Integer,
            "transition": sa.String,
            "from_state": sa.String,
            "to_state": sa.String,
            "accepted": sa.Boolean,
            "actor_id": sa.Integer,
            "actor_label": sa.String,
            "actor_role": sa.String,
            "reason": sa.Text,
            "idempotency_key": sa.String,
            "at": sa.DateTime(timezone=True),
        },
    ),
    "document": (
        "created_at",
        {
            "id": sa.Integer,
            "project_id": sa.Integer,
            "kind": sa.String,
            "operateur_id": sa.String,
            "version": sa.Integer,
            "filename": sa.String,
            "sha256": sa.String,
            "content_sha256": sa.String,
            "created_at": sa.DateTime(timezone=True),
        },
    ),
    "signature": (
        "recorded_at",
        {
            "id": sa.Integer,
            "document_id": sa.Integer,
            "party_role": sa.String,
            "signer_label": sa.String,
            "signed_on": sa.Date,
            "recorded_at": sa.DateTime(timezone=True),
        },
    ),
}


def _value(value: Any) -> Any:
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, date):
        return value.isoformat()
    return value


def _digest(table: str, seq: int, prev: str, fields: dict[str, Any]) -> str:
    payload = {"t": table, "n": seq, "p": prev, "f": {name: _value(v) for name, v in fields.items()}}
    encoded = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


def _chain_existing_rows() -> None:
    conn = op.get_bind()
    rows: list[tuple[datetime, int, int, str, dict[str, Any]]] = []
    for rank, (name, (stamp, columns)) in enumerate(TABLES.items()):
        table = sa.table(name, *(sa.column(c, t) for c, t in columns.items()))
        for row in conn.execute(sa.select(table)):
            fields = dict(row._mapping)
            moment = fields[stamp] if fields[stamp].tzinfo else fields[stamp].replace(tzinfo=UTC)
            rows.append((moment, rank, fields["id"], name, fields))
    seq, prev = 0, GENESIS
    for _moment, _rank, row_id, name, fields in sorted(rows, key=lambda r: r[:3]):
        seq += 1
        digest = _digest(name, seq, prev, fields)
        table = sa.table(
            name, sa.column("id"), sa.column("chain_seq"), sa.column("prev_digest"), sa.column("digest")
        )
        conn.execute(
            table.update().where(table.c.id == row_id).values(chain_seq=seq, prev_digest=prev, digest=digest)
        )
        prev = digest
    head = sa.table(
        "journal_head",
        sa.column("id"),
        sa.column("seq"),
        sa.column("digest"),
        sa.column("at", sa.DateTime(True)),
    )
    conn.execute(head.insert().values(id=1, seq=seq, digest=prev, at=datetime.now(UTC)))


def upgrade() -> None:
    op.create_table(
        "journal_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal_head")),
    )
    for name in TABLES:
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.add_column(sa.Column("chain_seq", sa.Integer(), nullable=True))
            batch_op.add_column(sa.Column("prev_digest", sa.String(length=64), nullable=True))
            batch_op.add_column(sa.Column("digest", sa.String(length=64), nullable=True))
            batch_op.create_index(batch_op.f(f"ix_{name}_chain_seq"), ["chain_seq"], unique=False)
    _chain_existing_rows()


def downgrade() -> None:
    for name in reversed(TABLES):
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{name}_chain_seq"))
            batch_op.drop_column("digest")
            batch_op.drop_column("prev_digest")
            batch_op.drop_column("chain_seq")
    op.drop_table("journal_head")
