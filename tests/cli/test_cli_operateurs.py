"""``siae operateurs importer|ajouter|retirer|lister`` on each backend."""

from datetime import datetime

import time_machine
from click.testing import Result
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from implantation.cli import app
from implantation.db.models import Operateur
from implantation.enums import OperateurStatus
from implantation.settings import PROJECT_ROOT

runner = CliRunner()
SAMPLES = PROJECT_ROOT / "config" / "echantillons"


def run(*args: str) -> Result:
    with time_machine.travel(datetime(2028, 2, 1, 9, 0), tick=False):
        return runner.invoke(app, list(args))


def test_import_add_retire_and_list(seeded: Engine) -> None:
    result = run("operateurs", "importer", "1", str(SAMPLES / "operateurs.csv"))
    assert result.exit_code == 1
    assert (
        "Ligne 2, champ « poste » : « Agent de tri de textiles » n'est pas un poste du projet"
        in result.output
    )
    assert run("projet", "completer", "1", "--fichier", str(SAMPLES / "dossier.toml")).exit_code == 0
    result = run("operateurs", "importer", "1", str(SAMPLES / "operateurs.csv"))
    assert result.exit_code == 0, result.output
    assert "3 opérateur(s) enregistré(s) pour le projet IMP-2026-0001" in result.output
    assert "Quintavalle" not in result.output

    args = ["operateurs", "ajouter", "1", "--nom", "Nouveau", "--prenom", "Né", "--ecrou", "E-77"]
    args += [
        "--naissance",
        "1990-01-01",
        "--statut",
        "prevenu",
        "--quantum",
        "12",
        "--poste",
        "Agent de conditionnement",
    ]
    result = run(*args)
    assert result.exit_code == 1 and "inéligible : personne prévenue sans accord conjoint" in result.output
    result = run(*args, "--accord-conjoint", "oui")
    assert result.exit_code == 0, result.output
    assert "(Identifié par le SPIP)" in result.output

    result = run(
        "operateurs", "retirer", "1", "VARCES-0000-00522", "--motif", "liberation", "--date", "2028-01-31"
    )
    assert result.exit_code == 0, result.output
    assert "sorti le 31/01/2028 (Libération (fin de détention))" in result.output
    result = run("operateurs", "retirer", "1", "VARCES-0000-00522", "--motif", "evasion")
    assert result.exit_code == 1 and "Champ « motif » : « evasion » inconnu" in result.output

    result = run("operateurs", "lister", "1")
    assert result.exit_code == 0, result.output
    assert "Brisefer" in result.output and "Sorti" in result.output
    with Session(seeded) as session:
        statuses = sorted(op.status for op in session.exec(select(Operateur)))
        assert statuses.count(OperateurStatus.ASSIGNED) == 2 and OperateurStatus.LEFT in statuses
