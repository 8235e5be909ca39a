"""the journal chains where each decision led (next_stage, next_attempt): the chain is re-sealed

Revision ID: 0008_journal_chain
Revises: 0007_courriel_national

A decision's replay trusts ``next_stage`` and ``next_attempt`` to name the run it started: they join the
fields each link covers. Every digest after the first decision changes, so the chain is computed again, in
its order, with the new encoding. The existing chain is verified first with the encoding it was sealed
with: a chain already broken is not re-sealed (that would hide what was rewritten), the upgrade stops and
says which link. A head digest published before this revision stays verifiable: ``siae journal verifier
--empreinte`` recomputes the former encoding. The encodings are frozen copies of
``implantation.db.journal`` (revisions do not import application code).
"""

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0008_journal_chain"
down_revision: str | Sequence[str] | None = "0007_courriel_national"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS = "0" * 64
BEFORE: dict[str, tuple[str, ...]] = {
    "transition_log": (
        "id",
        "project_id",
        "stage",
        "transition",
        "from_state",
        "to_state",
        "accepted",
        "actor_id",
        "actor_label",
        "actor_role",
        "reason",
        "idempotency_key",
        "at",
    ),
    "document": (
        "id",
        "project_id",
        "kind",
        "operateur_id",
        "version",
        "filename",
        "sha256",
        "content_sha256",
        "created_at",
    ),
    "signature": ("id", "document_id", "party_role", "signer_label", "signed_on", "recorded_at"),
}
AFTER: dict[str, tuple[str, ...]] = {
    **BEFORE,
    "transition_log": (*BEFORE["transition_log"][:-1], "next_stage", "next_attempt", "at"),
}
TYPES: dict[str, Any] = {
    "at": sa.DateTime(timezone=True),
    "created_at": sa.DateTime(timezone=True),
    "recorded_at": sa.DateTime(timezone=True),
    "signed_on": sa.Date,
    "accepted": sa.Boolean,
}


def _value(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, date):
        return value.isoformat()
    return value


def _digest(
    covered: dict[str, tuple[str, ...]], table: str, seq: int, prev: str, fields: dict[str, Any]
) -> str:
    payload = {"t": table, "n": seq, "p": prev, "f": {name: _value(fields[name]) for name in covered[table]}}
    encoded = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


def _table(name: str) -> sa.TableClause:
    columns = {*AFTER[name], "chain_seq", "prev_digest", "digest"}
    return sa.table(name, *(sa.column(c, TYPES.get(c)) for c in sorted(columns)))


def _links(conn: sa.Connection) -> list[tuple[int, str, dict[str, Any]]]:
    links = []
    for name in AFTER:
        for row in conn.execute(sa.select(_table(name))):
            fields = dict(row._mapping)
            if fields["chain_seq"] is None:
                raise RuntimeError(
                    f"Journal altéré avant la migration 0008 : ligne n° {fields['id']} de la table {name} hors "
                    "de la chaîne. La chaîne n'est pas rescellée : vérifier avec « siae journal verifier »."
                )
            links.append((fields["chain_seq"], name, fields))
    return sorted(links, key=lambda link: (link[0], link[1], link[2]["id"]))


def _reseal(old: dict[str, tuple[str, ...]], new: dict[str, tuple[str, ...]]) -> None:
    conn = op.get_bind()
    head = sa.table(
        "journal_head",
        sa.column("id"),
        sa.column("seq"),
        sa.column("digest"),
        sa.column("at", sa.DateTime(True)),
    )
    stored = conn.execute(sa.select(head.c.seq, head.c.digest).where(head.c.id == 1)).one_or_none()
    links = _links(conn)
    checked, sealed = GENESIS, GENESIS
    for expected, (seq, name, fields) in enumerate(links, start=1):
        if (
            seq != expected
            or fields["prev_digest"] != checked
            or _digest(old, name, seq, checked, fields) != fields["digest"]
        ):
            raise RuntimeError(
                f"Journal altéré avant la migration 0008 : ligne n° {fields['id']} de la table {name} "
                f"(maillon {seq}). La chaîne n'est pas rescellée : vérifier avec « siae journal verifier »."
            )
        checked = fields["digest"]
        digest = _digest(new, name, seq, sealed, fields)
        table = _table(name)
        conn.execute(
            table.update().where(table.c.id == fields["id"]).values(prev_digest=sealed, digest=digest)
        )
        sealed = digest
    if stored is not None and (stored.seq != len(links) or stored.digest != checked):
        raise RuntimeError(
            "Journal altéré avant la migration 0008 : la tête du journal ne correspond pas au dernier "
            "maillon. La chaîne n'est pas rescellée : vérifier avec « siae journal verifier »."
        )
    if stored is not None:
        conn.execute(head.update().where(head.c.id == 1).values(digest=sealed, at=datetime.now(UTC)))


def upgrade() -> None:
    _reseal(BEFORE, AFTER)


def downgrade() -> None:
    _reseal(AFTER, BEFORE)
