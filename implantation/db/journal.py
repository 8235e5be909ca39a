"""The tamper-evident journal: decisions, documents and signatures linked in one SHA-256 hash chain.

Each chained row stores the digest of the link before it and its own digest over a canonical encoding of
its fields, so a row edited, deleted or inserted with plain SQL no longer fits the chain. Someone able to
rewrite the database can recompute every digest, hence the head digest published daily (``echeances``
artifact, ``siae journal empreinte``): a copy kept elsewhere proves that the past was not rewritten.

One chain for the three tables rather than one per table: they are one story (a decision opens stage 5,
documents are produced, then signed), one head digest vouches for all of it, and one published value is
easier to keep than three. The order is the order of commits, which a single chain records.

Links are appended by a session hook after each flush, whatever code wrote the row, under a lock that
serializes appenders: a PostgreSQL transaction-level advisory lock, and on SQLite the database write
lock the row's own INSERT already holds. Two transactions can therefore never both extend the same head.

The covered fields are listed here, not taken from the models: a column added later must not change
the digests of existing rows. Documents leave out their status and PDF (derived from the signatures and
the .docx, both chained); every other covered field never changes once written. Revision
``0003_journal`` carries a frozen copy of this encoding to chain the rows that existed before it.
"""

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import attributes
from sqlmodel import Session

from implantation.db.models import (
    AmountCheck,
    AmountRecord,
    DocumentRecord,
    JournalHead,
    SignatureEvidence,
    SignatureRecord,
    TransitionLog,
    utcnow,
)

GENESIS = "0" * 64
ADVISORY_LOCK = 0x51A5_10C4  # pg_advisory_xact_lock key of the journal

COVERED: dict[str, tuple[str, ...]] = {
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
        # Where an accepted decision led: a replay trusts them to name the run the decision started.
        "next_stage",
        "next_attempt",
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
    # The proof of a signature: the signed file's checksum and the certificate, or the witnessed scan.
    "signature_preuve": (
        "id",
        "signature_id",
        "method",
        "file_sha256",
        "field_name",
        "subject",
        "serial",
        "issuer",
        "signing_time",
        "verified_at",
        "witness_label",
        "witnessed_on",
        "recorded_at",
    ),
    # Legal amounts added by an administrator, and their checks: the figures binding documents print.
    "montant": (
        "id",
        "key",
        "value",
        "starts_on",
        "ends_on",
        "source",
        "source_date",
        "establishment_id",
        "actor_label",
        "recorded_at",
    ),
    "montant_verification": ("id", "key", "checked_on", "actor_label", "recorded_at"),
}
MODELS: tuple[type, ...] = (
    TransitionLog,
    DocumentRecord,
    SignatureRecord,
    SignatureEvidence,
    AmountRecord,
    AmountCheck,
)
LABELS = {
    "transition_log": "décision",
    "document": "document",
    "signature": "signature",
    "signature_preuve": "preuve de signature",
    "montant": "montant",
    "montant_verification": "vérification de montant",
}
# The encoding before revision ``0008_journal_chain``, which re-sealed the chain with the fields above: a
# head digest published before it is still found by :func:`legacy_digests`.
LEGACY_COVERED: dict[str, tuple[str, ...]] = {
    **COVERED,
    "transition_log": tuple(n for n in COVERED["transition_log"] if n not in ("next_stage", "next_attempt")),
}


class JournalError(RuntimeError):
    """A write that would rewrite the journal (update of a covered field, deletion)."""


def _value(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):  # amounts: the same text whatever scale the backend gives back
        return format(value.normalize(), "f")
    return value


def link_digest(
    table: str,
    seq: int,
    prev: str,
    fields: Mapping[str, Any],
    covered: Mapping[str, tuple[str, ...]] = COVERED,
) -> str:
    """SHA-256 of the canonical JSON of one link: table, rank, previous digest and covered fields."""
    payload = {"t": table, "n": seq, "p": prev, "f": {name: _value(fields[name]) for name in covered[table]}}
    encoded = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


def _lock(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({ADVISORY_LOCK})")


def _head(conn: Connection) -> tuple[int, str, datetime | None]:
    table = JournalHead.__table__  # type: ignore[attr-defined]
    row = conn.execute(select(table.c.seq, table.c.digest, table.c.at).where(table.c.id == 1)).one_or_none()
    return (row.seq, row.digest, row.at) if row else (0, GENESIS, None)


def _append(session: Session, _context: Any) -> None:
    new: list[Any] = [obj for obj in session.new if isinstance(obj, MODELS)]
    if not new:
        return
    conn = session.connection()
    _lock(conn)
    seq, prev, at = _head(conn)
    rank = {model: i for i, model in enumerate(MODELS)}
    for obj in sorted(new, key=lambda o: (rank[type(o)], o.id)):
        table = type(obj).__table__
        fields = conn.execute(select(*(table.c[n] for n in COVERED[table.name])).where(table.c.id == obj.id))
        seq += 1
        digest = link_digest(table.name, seq, prev, dict(fields.one()._mapping))
        values = {"chain_seq": seq, "prev_digest": prev, "digest": digest}
        conn.execute(table.update().where(table.c.id == obj.id).values(**values))
        for name, value in values.items():
            attributes.set_committed_value(obj, name, value)
        prev = digest
    head = JournalHead.__table__  # type: ignore[attr-defined]
    stamp = {"seq": seq, "digest": prev, "at": utcnow()}
    if at is None:
        conn.execute(head.insert().values(id=1, **stamp))
    else:
        conn.execute(head.update().where(head.c.id == 1).values(**stamp))


def _refuse_rewrites(session: Session, _context: Any, _instances: Any) -> None:
    for obj in session.deleted:
        if isinstance(obj, MODELS):
            raise JournalError(f"le journal est en ajout seul : {type(obj).__name__} ne peut être supprimé")
    for obj in session.dirty:
        if isinstance(obj, MODELS):
            table = type(obj).__table__  # type: ignore[attr-defined]
            state = attributes.instance_state(obj)
            changed = [n for n in COVERED[table.name] if state.attrs[n].history.has_changes()]
            if changed:
                raise JournalError(
                    f"le journal est en ajout seul : {table.name}.{', '.join(changed)} modifié"
                )


event.listen(Session, "before_flush", _refuse_rewrites)
event.listen(Session, "after_flush", _append)


@dataclass(frozen=True)
class Link:
    table: str
    id: int
    seq: int | None
    prev: str | None
    digest: str | None
    fields: Mapping[str, Any]

    @property
    def label(self) -> str:
        rank = f" (maillon {self.seq})" if self.seq is not None else ""
        return f"{LABELS[self.table]} n° {self.id} de la table {self.table}{rank}"


@dataclass(frozen=True)
class Verification:
    links: int
    head_digest: str
    head_at: datetime | None
    problem: str | None = None
    digests: frozenset[str] = frozenset()
    broken: Link | None = None  # the link the problem names, when it names one

    @property
    def broken_project_id(self) -> int | None:
        """The project of the link the problem names (a signature's through its document), if known."""
        if self.broken is None:
            return None
        value = self.broken.fields.get("project_id")
        return value if isinstance(value, int) else None

    @property
    def ok(self) -> bool:
        return self.problem is None


def _links(conn: Connection) -> list[Link]:
    links: list[Link] = []
    for model in MODELS:
        table = model.__table__  # type: ignore[attr-defined]
        columns = [table.c.chain_seq, table.c.prev_digest, table.c.digest]
        columns += [table.c[n] for n in COVERED[table.name] if n != "id"]
        for row in conn.execute(select(table.c.id, *columns)):
            values = row._mapping
            links.append(
                Link(
                    table.name,
                    values["id"],
                    values["chain_seq"],
                    values["prev_digest"],
                    values["digest"],
                    dict(values),
                )
            )
    return links


def _walk(chained: Sequence[Link], head: tuple[int, str, datetime | None]) -> tuple[str, Link | None] | None:
    """The first link that does not fit, in chain order, as a French sentence and the link it names;
    None when all fit."""
    expected, prev, last = 1, GENESIS, None
    for link in chained:
        assert link.seq is not None
        if link_digest(link.table, link.seq, link.prev or "", link.fields) != link.digest:
            return f"{link.label} modifiée ou insérée : son empreinte ne correspond pas à son contenu", link
        if link.seq > expected:
            where = f"après {last.label}" if last else "au début de la chaîne"
            return f"maillon(s) {expected} à {link.seq - 1} supprimé(s) {where}, avant {link.label}", link
        if link.seq < expected or link.prev != prev:
            before = last.label if last else "le début de la chaîne"
            return f"{link.label} insérée, ou {before} réécrite : la chaîne est rompue entre les deux", link
        expected, prev, last = expected + 1, link.digest or "", link
    seq, digest, _at = head
    if seq >= expected:
        where = f"après {last.label}" if last else "au début de la chaîne"
        return f"maillon(s) {expected} à {seq} supprimé(s) en fin de chaîne, {where}", last
    if seq != expected - 1 or digest != prev:
        return (
            f"la tête du journal (maillon {seq}) ne correspond pas au dernier maillon ({expected - 1})",
            last,
        )
    return None


def _chained(links: Sequence[Link]) -> list[Link]:
    return sorted((x for x in links if x.seq is not None), key=lambda x: (x.seq, x.table, x.id))


def verify(conn: Connection) -> Verification:
    """Recompute the whole chain; the problem names the first row changed, inserted or removed."""
    links = _links(conn)
    chained = _chained(links)
    head = _head(conn)
    found = _walk(chained, head)
    if found is None:
        loose = sorted((x for x in links if x.seq is None), key=lambda x: (x.table, x.id))
        if loose:
            found = f"{loose[0].label} insérée hors de la chaîne", loose[0]
    problem, broken = found if found is not None else (None, None)
    if broken is not None and broken.table in ("signature", "signature_preuve"):
        broken = _with_project(conn, broken)
    digests = frozenset(x.digest for x in chained if x.digest)
    return Verification(len(chained), head[1], head[2], problem, digests, broken)


def _with_project(conn: Connection, signature: Link) -> Link:
    """The link with the project of its document (a signature's proof through its signature)."""
    table = DocumentRecord.__table__  # type: ignore[attr-defined]
    document_id = signature.fields.get("document_id")
    if signature.table == "signature_preuve":
        signatures = SignatureRecord.__table__  # type: ignore[attr-defined]
        document_id = conn.execute(
            select(signatures.c.document_id).where(signatures.c.id == signature.fields.get("signature_id"))
        ).scalar_one_or_none()
    project_id = conn.execute(
        select(table.c.project_id).where(table.c.id == document_id)
    ).scalar_one_or_none()
    return Link(
        signature.table,
        signature.id,
        signature.seq,
        signature.prev,
        signature.digest,
        {**signature.fields, "project_id": project_id},
    )


def legacy_digests(conn: Connection) -> frozenset[str]:
    """The digests the chain had under the encoding before revision ``0008_journal_chain`` (without
    ``next_stage`` and ``next_attempt``), recomputed from the rows: a head digest published before that
    revision is found here as long as the fields it covered were not rewritten."""
    digests, prev = set(), GENESIS
    for link in _chained(_links(conn)):
        assert link.seq is not None
        prev = link_digest(link.table, link.seq, prev, link.fields, LEGACY_COVERED)
        digests.add(prev)
    return frozenset(digests)
