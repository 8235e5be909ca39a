"""The hash-chained journal: untouched it verifies; a row edited, deleted or inserted with plain SQL is named."""

import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import factories
import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from implantation.cli import app
from implantation.config.schema import ProcessConfig
from implantation.db.journal import COVERED, LEGACY_COVERED, JournalError, legacy_digests, link_digest, verify
from implantation.db.migrate import current_revision, upgrade
from implantation.db.models import DocumentRecord, SignatureRecord, TransitionLog
from implantation.db.session import make_engine
from implantation.enums import Decision, DocumentKind, Role
from implantation.services.decisions import DecisionRequest
from implantation.settings import get_settings

runner = CliRunner()


def _story(session: Session, cfg: ProcessConfig) -> None:
    """A project (two decision rows), then a document and its signature: the three chained tables."""
    project, _lead = factories.project(session, cfg)
    session.commit()
    document = DocumentRecord(
        project_id=project.id,  # type: ignore[arg-type]
        kind=DocumentKind.CONVENTION,
        version=1,
        filename="convention-v1.docx",
        sha256="a" * 64,
    )
    session.add(document)
    session.commit()
    session.add(
        SignatureRecord(
            document_id=document.id,  # type: ignore[arg-type]
            party_role=Role.DREETS,
            signer_label="Dreets Exemple",
            signed_on=date(2027, 6, 1),
        )
    )
    session.commit()


def _problem(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return verify(conn).problem


@pytest.fixture
def cli(
    engine: Engine, migrated_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Engine]:
    monkeypatch.setenv("SIAE_DATABASE_URL", migrated_url)
    monkeypatch.setenv("SIAE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COLUMNS", "240")
    get_settings.cache_clear()
    yield engine
    get_settings.cache_clear()


def test_untouched_journal_verifies_and_prints_its_head(
    cli: Engine, session: Session, cfg: ProcessConfig
) -> None:
    _story(session, cfg)
    rows = session.exec(select(TransitionLog).order_by(TransitionLog.chain_seq)).all()  # type: ignore[arg-type]
    assert [r.chain_seq for r in rows] == list(range(1, len(rows) + 1))
    assert rows[1].prev_digest == rows[0].digest
    with cli.connect() as conn:
        result = verify(conn)
    assert result.ok and result.links == len(rows) + 2
    verified = runner.invoke(app, ["journal", "verifier"])
    assert verified.exit_code == 0, verified.output
    assert f"{result.links} maillon(s) vérifié(s)" in verified.output
    head = runner.invoke(app, ["journal", "empreinte"])
    assert head.exit_code == 0 and result.head_digest in head.output
    published = runner.invoke(app, ["journal", "verifier", "--empreinte", rows[0].digest or ""])
    assert published.exit_code == 0 and "le passé n'a pas été réécrit" in published.output


@pytest.mark.parametrize(
    ("statement", "named"),
    [
        (
            "UPDATE transition_log SET reason = 'réécrit' WHERE id = 2",
            "décision n° 2 de la table transition_log",
        ),
        (
            "UPDATE transition_log SET next_stage = 1, next_attempt = 9 WHERE id = 2",
            "décision n° 2 de la table transition_log",
        ),
        ("UPDATE signature SET signer_label = 'Autre' WHERE id = 1", "signature n° 1 de la table signature"),
        ("UPDATE document SET sha256 = 'b' WHERE id = 1", "document n° 1 de la table document (maillon"),
        ("DELETE FROM transition_log WHERE id = 1", "maillon(s) 1 à 1 supprimé(s) au début de la chaîne"),
        ("DELETE FROM signature WHERE id = 1", "supprimé(s) en fin de chaîne, après document n° 1"),
        (
            "INSERT INTO transition_log (project_id, transition, accepted, actor_label, at) "
            "VALUES (1, 'approuver', true, 'Quelqu''un', '2026-11-02 10:00:00')",
            "décision n° 3 de la table transition_log insérée hors de la chaîne",
        ),
        (
            "INSERT INTO transition_log (project_id, transition, accepted, actor_label, at, chain_seq, prev_digest,"
            " digest) SELECT 1, 'approuver', true, 'X', at, 2, prev_digest, digest FROM transition_log WHERE id = 2",
            "décision n° 3 de la table transition_log (maillon 2) modifiée ou insérée",
        ),
    ],
)
def test_plain_sql_tampering_is_named(
    cli: Engine, session: Session, cfg: ProcessConfig, statement: str, named: str
) -> None:
    _story(session, cfg)
    assert _problem(cli) is None
    with cli.begin() as conn:
        conn.execute(text(statement))
    assert named in (_problem(cli) or "")
    result = runner.invoke(app, ["journal", "verifier"])
    assert result.exit_code == 1
    assert "journal altéré" in result.output and named in " ".join(result.output.split())
    assert runner.invoke(app, ["journal", "empreinte"]).exit_code == 1


def test_the_application_cannot_rewrite_the_journal(session: Session, cfg: ProcessConfig) -> None:
    _story(session, cfg)
    row = session.get(TransitionLog, 1)
    assert row is not None
    row.reason = "réécrit"
    with pytest.raises(JournalError, match="ajout seul"):
        session.flush()
    session.rollback()
    session.delete(session.get(TransitionLog, 1))
    with pytest.raises(JournalError, match="ajout seul"):
        session.flush()


def _waiting_for_the_journal_lock(engine: Engine) -> bool:
    with engine.connect() as conn:
        query = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        return bool(conn.execute(text(query)).scalar_one())


def test_two_writers_do_not_fork_the_chain(engine: Engine, session: Session, cfg: ProcessConfig) -> None:
    """The second writer appends after the first commits, on the head the first one left.

    On PostgreSQL the second writer's INSERT goes through and it waits for the journal lock (checked in
    pg_locks); on SQLite its INSERT already waits for the database write lock the first one holds.
    """
    project, _lead = factories.project(session, cfg)
    session.commit()

    def entry(label: str) -> TransitionLog:
        return TransitionLog(project_id=project.id, transition="note", actor_label=label)  # type: ignore[arg-type]

    first = Session(engine)
    first.add(entry("premier"))
    first.flush()
    errors: list[BaseException] = []

    def second_writer() -> None:
        try:
            with Session(engine) as second:
                second.add(entry("second"))
                second.commit()
        except BaseException as exc:  # reported by the test thread
            errors.append(exc)

    thread = threading.Thread(target=second_writer)
    thread.start()
    if engine.dialect.name == "postgresql":
        deadline = time.monotonic() + 30
        while not _waiting_for_the_journal_lock(engine):
            assert time.monotonic() < deadline, "le second écrivain n'attend pas le verrou du journal"
    first.commit()
    first.close()
    thread.join(timeout=60)
    assert not thread.is_alive() and not errors
    with engine.connect() as conn:
        result = verify(conn)
    assert result.ok, result.problem
    assert result.links == 4


def test_migration_chains_existing_rows(fresh_url: str, cfg: ProcessConfig) -> None:
    """Rows written before revision 0003 are chained by it, and the application verifies that chain."""
    engine = make_engine(fresh_url)
    try:
        upgrade(engine, "0001")
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO establishment (code, name, type, departement, city) "
                    "VALUES ('CP-X', 'CP X', 'CP', '38', 'X')"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO person (full_name, email, organisation, role, territory) "
                    "VALUES ('Chef', 'chef@example.org', 'DISP', 'disp', 'LYON')"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO implantation_project (reference, establishment_id, lead_id, status, current_stage,"
                    " started_on, implantation_tacit_renewal, created_at) VALUES ('IMP-2026-0001', 1, 1,"
                    " 'en_cours', 1, '2026-10-01', true, '2026-10-01 08:00:00')"
                )
            )
            for hour, label in ((9, "Chef"), (8, "Système")):
                conn.execute(
                    text(
                        "INSERT INTO transition_log (project_id, transition, accepted, actor_label, at) "
                        f"VALUES (1, 'creer', true, '{label}', '2026-10-01 {hour:02d}:00:00+00')"
                    )
                )
        upgrade(engine)
        with engine.connect() as conn:
            result = verify(conn)
            order = conn.execute(text("SELECT id FROM transition_log ORDER BY chain_seq")).scalars().all()
        assert result.ok and result.links == 2, result.problem
        assert order == [2, 1]
        with Session(engine) as session:
            session.add(TransitionLog(project_id=1, transition="note", actor_label="Chef"))
            session.commit()
        with engine.connect() as conn:
            assert verify(conn).links == 3 and verify(conn).ok
    finally:
        engine.dispose()


def _sealed_the_former_way(engine: Engine) -> str:
    """Rows written at revision 0007 and chained with the encoding of then (no next_stage, next_attempt);
    returns the head digest that would have been published."""
    upgrade(engine, "0007_courriel_national")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO establishment (code, name, type, departement, city) "
                "VALUES ('CP-X', 'CP X', 'CP', '38', 'X')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO person (full_name, email, organisation, role, territory) "
                "VALUES ('Chef', 'chef@example.org', 'DISP', 'disp', 'LYON')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO implantation_project (reference, establishment_id, lead_id, status, current_stage,"
                " started_on, implantation_tacit_renewal, created_at) VALUES ('IMP-2026-0001', 1, 1,"
                " 'en_cours', 1, '2026-10-01', true, '2026-10-01 08:00:00')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO transition_log (project_id, transition, accepted, actor_label, at) "
                "VALUES (1, 'creer', true, 'Chef', '2026-10-01 08:00:00+00')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO transition_log (project_id, stage, transition, accepted, actor_label, at,"
                " idempotency_key, next_stage, next_attempt) VALUES (1, 1, 'approuver', true, 'Chef',"
                " '2026-10-02 08:00:00+00', 'projet-1-etape-1-tentative-1-saisie-1', 2, 1)"
            )
        )
        prev = "0" * 64
        for seq, row_id in enumerate((1, 2), start=1):
            table = TransitionLog.__table__  # type: ignore[attr-defined]
            fields = dict(conn.execute(table.select().where(table.c.id == row_id)).one()._mapping)
            digest = link_digest("transition_log", seq, prev, fields, LEGACY_COVERED)
            conn.execute(
                text("UPDATE transition_log SET chain_seq = :s, prev_digest = :p, digest = :d WHERE id = :i"),
                {"s": seq, "p": prev, "d": digest, "i": row_id},
            )
            prev = digest
        conn.execute(
            text("UPDATE journal_head SET seq = 2, digest = :d WHERE id = 1"),
            {"d": prev},
        )
    return prev


def test_the_migration_reseals_the_chain_with_where_each_decision_led(
    fresh_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine(fresh_url)
    try:
        published = _sealed_the_former_way(engine)
        upgrade(engine)
        with engine.connect() as conn:
            result = verify(conn)
            assert result.ok and result.links == 2, result.problem
            assert published not in result.digests and published in legacy_digests(conn)
        monkeypatch.setenv("SIAE_DATABASE_URL", fresh_url)
        monkeypatch.setenv("SIAE_DATA_DIR", str(tmp_path / "data"))
        get_settings.cache_clear()
        try:
            before = runner.invoke(app, ["journal", "verifier", "--empreinte", published])
            assert before.exit_code == 0, before.output
            assert "le passé n'a pas été réécrit" in before.output
            # Where a decision led is covered now: rewriting it breaks the chain.
            with engine.begin() as conn:
                conn.execute(text("UPDATE transition_log SET next_attempt = 3 WHERE id = 2"))
            with engine.connect() as conn:
                assert "décision n° 2 de la table transition_log" in (verify(conn).problem or "")
            tampered = runner.invoke(app, ["journal", "verifier", "--empreinte", published])
            assert tampered.exit_code == 1
        finally:
            get_settings.cache_clear()
    finally:
        engine.dispose()


def test_the_migration_refuses_to_reseal_a_broken_chain(fresh_url: str) -> None:
    """Re-sealing a chain already broken would hide what was rewritten: the upgrade stops and names it."""
    engine = make_engine(fresh_url)
    try:
        _sealed_the_former_way(engine)
        with engine.begin() as conn:
            conn.execute(text("UPDATE transition_log SET reason = 'réécrit' WHERE id = 2"))
        with pytest.raises(RuntimeError, match="ligne n° 2 de la table transition_log"):
            upgrade(engine)
        assert current_revision(engine) == "0007_courriel_national"
    finally:
        engine.dispose()


def test_an_accepted_decision_is_chained_with_where_it_led(session: Session, cfg: ProcessConfig) -> None:
    project, lead = factories.project(session, cfg)
    request = DecisionRequest(1, Decision.APPROVE, lead.id, key="k1")  # type: ignore[arg-type]
    assert factories.decide(session, cfg, project.id, request, date(2026, 10, 2)).accepted  # type: ignore[arg-type]
    session.commit()
    row = session.exec(select(TransitionLog).where(TransitionLog.idempotency_key == "k1")).one()
    assert (row.next_stage, row.next_attempt) == (2, 1)
    fields = {name: getattr(row, name) for name in COVERED["transition_log"]}
    assert row.digest == link_digest("transition_log", row.chain_seq, row.prev_digest, fields)  # type: ignore[arg-type]
    assert verify(session.connection()).ok


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE transition_log SET reason = 'réécrit' WHERE id = 2",
        "UPDATE document SET sha256 = 'b' WHERE id = 1",
        "UPDATE signature SET signer_label = 'Autre' WHERE id = 1",
    ],
)
def test_a_broken_link_names_its_project(
    engine: Engine, session: Session, cfg: ProcessConfig, statement: str
) -> None:
    """Whose DISP to alert: the project of the link, a signature's through its document."""
    _story(session, cfg)
    with engine.begin() as conn:
        conn.execute(text(statement))
    with engine.connect() as conn:
        assert verify(conn).broken_project_id == 1
