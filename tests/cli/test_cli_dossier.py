"""``siae projet completer`` and ``siae projet historique`` on each backend."""

from datetime import datetime
from pathlib import Path

import time_machine
from click.testing import Result
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from implantation.cli import app
from implantation.db.models import FactChange, ImplantationProject
from implantation.settings import PROJECT_ROOT

runner = CliRunner()
SAMPLE = PROJECT_ROOT / "config" / "echantillons" / "dossier.toml"


def run(*args: str) -> Result:
    with time_machine.travel(datetime(2026, 11, 23, 9, 0), tick=False):
        return runner.invoke(app, list(args))


def test_complete_from_the_sample_then_history(seeded: Engine, tmp_path: Path) -> None:
    result = run("projet", "completer", "IMP-2026-0001", "--fichier", str(SAMPLE), "--par", "1")
    assert result.exit_code == 0, result.output
    assert "IMP-2026-0001 : 28 valeur(s) enregistrée(s)" in result.output
    result = run("projet", "completer", "1", "--fichier", str(SAMPLE))
    assert result.exit_code == 0 and "aucune valeur modifiée" in result.output
    exported = run("projet", "dossier", "1")
    assert exported.exit_code == 0, exported.output
    assert exported.output.startswith('locaux = "Atelier de 300 m²') and "[[postes]]" in exported.output
    again = tmp_path / "exporte.toml"
    again.write_text(exported.output, encoding="utf-8")
    result = run("projet", "completer", "1", "--fichier", str(again))
    assert result.exit_code == 0 and "aucune valeur modifiée" in result.output, result.output

    fix = tmp_path / "correction.toml"
    fix.write_text('activite = "Tri & valorisation de textiles [bold]"\n', encoding="utf-8")
    result = run("projet", "completer", "1", "--fichier", str(fix))
    assert result.exit_code == 0, result.output
    result = run("projet", "historique", "1")
    assert result.exit_code == 0, result.output
    assert "Tri & valorisation de textiles [bold]" in result.output and "Ligne de commande" in result.output
    with Session(seeded) as session:
        rows = session.exec(select(FactChange).where(FactChange.field == "activite")).all()
        assert [(r.actor_id, r.new_value) for r in rows] == [
            (1, "Tri de textiles"),
            (None, "Tri & valorisation de textiles [bold]"),
        ]


def test_a_bad_file_is_refused_whole_in_french(seeded: Engine, tmp_path: Path) -> None:
    bad = tmp_path / "mauvais.toml"
    bad.write_text(
        'activite = "Menuiserie"\npostes_etp = "beaucoup"\n[[budget]]\nnature = "charge"\n', encoding="utf-8"
    )
    result = run("projet", "completer", "1", "--fichier", str(bad))
    assert result.exit_code == 1
    assert "saisie refusée, rien n'a été enregistré" in result.output
    assert "clé « postes_etp » : nombre attendu, lu « beaucoup »" in result.output
    assert "clé « budget[1].libelle » : valeur obligatoire manquante" in result.output
    assert "Traceback" not in result.output
    bad.write_text('activite = "Menuiserie\n', encoding="utf-8")
    result = run("projet", "completer", "1", "--fichier", str(bad))
    assert result.exit_code == 1 and "syntaxe TOML invalide (ligne 1" in result.output
    result = run("projet", "completer", "1", "--fichier", str(tmp_path / "absent.toml"))
    assert result.exit_code == 1 and "Fichier introuvable" in result.output
    with Session(seeded) as session:
        project = session.exec(select(ImplantationProject)).one()
        assert project.activity is None
        assert session.exec(select(FactChange)).all() == []
