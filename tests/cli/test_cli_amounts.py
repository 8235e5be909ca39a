"""``siae montants``: an administrator keeps the legal amounts with their texts, journaled, without the code."""

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine
from click.testing import Result
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from implantation.cli import app
from implantation.db.journal import verify
from implantation.db.models import AmountCheck, AmountRecord
from implantation.settings import PROJECT_ROOT, get_settings

runner = CliRunner()


@pytest.fixture
def admin(seeded: Engine, monkeypatch: pytest.MonkeyPatch) -> Engine:
    monkeypatch.setenv("SIAE_CONFIG_DIR", str(PROJECT_ROOT / "config"))
    get_settings.cache_clear()
    return seeded


def siae(*args: str, on: datetime = datetime(2027, 1, 20, 9, 0)) -> Result:
    with time_machine.travel(on, tick=False):
        return runner.invoke(app, list(args), env={"COLUMNS": "400"})


def _plain(result: Result) -> str:
    return " ".join(result.output.split())


def test_list_shows_what_is_in_force_today_with_its_text(admin: Engine) -> None:
    result = siae("montants", "lister")
    assert result.exit_code == 0, result.output
    plain = _plain(result)
    assert "Montants en vigueur au 20/01/2027" in plain
    assert "smic_horaire_brut" in plain and "12,02" in plain and "Décret n° 2025-1228" in plain
    detail = siae("montants", "lister", "aide_au_poste_socle_ei")
    assert detail.exit_code == 0 and "12 459,00 €" in _plain(detail).replace("\xa0", " ")
    assert "remplacement" in detail.output  # in force until the next text, no end date


def test_add_records_the_value_with_its_text_in_the_journal(admin: Engine) -> None:
    result = siae(
        "montants",
        "ajouter",
        "aide_au_poste_socle_aci",
        "24500",
        "--du",
        "2027-01-01",
        "--source",
        "Arrêté du 10 janvier 2027 fixant les montants des aides financières aux SIAE (essai)",
        "--date-source",
        "2027-01-10",
    )
    assert result.exit_code == 0, result.output
    assert "Montant enregistré (n° 1) : aide_au_poste_socle_aci = 24500" in _plain(result)
    with Session(admin) as session:
        row = session.exec(select(AmountRecord)).one()
        assert (row.value, row.starts_on, row.actor_label) == (
            Decimal("24500"),
            date(2027, 1, 1),
            "Ligne de commande",
        )
        assert row.digest is not None and verify(session.connection()).ok
    listed = siae("montants", "lister")
    assert "24 500,00 €" in _plain(listed).replace("\xa0", " ")
    # Rewriting the value in SQL breaks the chain: the journal names the row.
    with admin.begin() as conn:
        conn.execute(text("UPDATE montant SET value = 30000 WHERE id = 1"))
    with Session(admin) as session:
        checked = verify(session.connection())
        assert not checked.ok and "montant n° 1" in (checked.problem or "")


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["inconnu", "1", "--du", "2027-01-01", "--source", "x"], "clé inconnue « inconnu »"),
        (
            ["smic_horaire_brut", "12.5", "--du", "2027-01-01", "--source", "Décret n° 1 du 1er janvier"],
            "--date-source : la date du texte est obligatoire pour un décret ou un arrêté",
        ),
        (["cotisation_csa", "0.3", "--du", "2027-01-01", "--source", "CSS"], None),
        (["cotisation_csa", "30", "--du", "2027-01-01", "--source", "CSS"], "taux attendu en fraction"),
        (
            ["taux_atmp", "0.02", "--du", "2027-01-01", "--source", "Notification"],
            "se saisit par établissement",
        ),
        (
            ["smic_horaire_brut", "12.5", "--du", "2027-01-01", "--source", "DÉMONSTRATION : x"],
            "une valeur de démonstration ne s'enregistre pas",
        ),
        (
            ["taux_atmp", "0.02", "--du", "2027-01-01", "--source", "N", "--etablissement", "CP-INCONNU"],
            "établissement inconnu « CP-INCONNU »",
        ),
    ],
)
def test_a_refused_value_names_its_problem_and_nothing_is_written(
    admin: Engine, args: list[str], problem: str | None
) -> None:
    result = siae("montants", "ajouter", *args)
    if problem is None:  # 0.3 is a valid fraction of gross pay for a rate: accepted
        assert result.exit_code == 0, result.output
        return
    assert result.exit_code == 1 and problem in _plain(result), result.output
    with Session(admin) as session:
        assert session.exec(select(AmountRecord)).all() == []


def test_verify_names_the_amounts_past_their_usual_revaluation_and_records_a_check(admin: Engine) -> None:
    result = siae("montants", "verifier")
    assert result.exit_code == 0, result.output
    plain = _plain(result)
    assert "revalorisation habituelle du 01/01/2027 passée : chercher le nouveau texte" in plain
    assert "Non livré (csg_crds)" in plain and "montant(s) à revoir" in plain
    confirmed = siae(
        "montants",
        "verifier",
        "--confirmer",
        "smic_horaire_brut",
        "--confirmer",
        "plafond_securite_sociale_mensuel",
    )
    assert confirmed.exit_code == 0 and "Vérification enregistrée au journal" in _plain(confirmed)
    with Session(admin) as session:
        checks = session.exec(select(AmountCheck.key, AmountCheck.checked_on)).all()
        assert sorted(checks) == [
            ("plafond_securite_sociale_mensuel", date(2027, 1, 20)),
            ("smic_horaire_brut", date(2027, 1, 20)),
        ]
        assert verify(session.connection()).ok
    row = next(
        line for line in siae("montants", "verifier").output.splitlines() if "smic_horaire_brut " in line
    )
    assert "revalorisation habituelle" not in row  # checked since: no longer flagged


def test_import_is_all_or_nothing_and_sets_each_establishment_s_atmp_rate(
    admin: Engine, tmp_path: Path
) -> None:
    bad = tmp_path / "taux.csv"
    bad.write_text(
        "cle;valeur;du;source;date_source;etablissement\n"
        "taux_atmp;0.0123;2026-01-01;Notification CARSAT;2025-12-15;CP-GRENOBLE-VARCES\n"
        "taux_atmp;0,02;2026-01-01;Notification CARSAT;;CP-INCONNU\n",
        encoding="utf-8",
    )
    result = siae("montants", "importer", str(bad))
    assert result.exit_code == 1 and "ligne 3 : --etablissement : établissement inconnu" in _plain(result)
    with Session(admin) as session:
        assert session.exec(select(AmountRecord)).all() == []
    good = tmp_path / "ok.csv"
    good.write_text(
        bad.read_text(encoding="utf-8").splitlines()[0]
        + "\n"
        + bad.read_text(encoding="utf-8").splitlines()[1]
        + "\n",
        encoding="utf-8",
    )
    assert siae("montants", "importer", str(good)).exit_code == 0
    listed = siae("montants", "lister", "taux_atmp")
    assert "CP-GRENOBLE-VARCES" in listed.output and "1,23" in listed.output
