"""The ``siae`` command line against the migrated database of each backend, chosen through SIAE_*."""

from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import factories
import pytest
import time_machine
from click.testing import Result
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from implantation.cli import app, main
from implantation.cli.common import handled
from implantation.config.schema import ProcessConfig
from implantation.db.models import Establishment, ImplantationProject, Siae, TransitionLog
from implantation.enums import ProjectStatus
from implantation.settings import get_settings

runner = CliRunner()
HOSTILE = "Atelier Dupont & Fils <Tri> {{ 7*7 }} [bold]"


@pytest.fixture
def cli_db(
    engine: Engine, migrated_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Engine]:
    monkeypatch.setenv("SIAE_DATABASE_URL", migrated_url)
    monkeypatch.setenv("SIAE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COLUMNS", "220")
    get_settings.cache_clear()
    yield engine
    get_settings.cache_clear()


@pytest.fixture
def seeded(cli_db: Engine, cfg: ProcessConfig) -> Engine:
    """Establishment 1 (Isère), DISP lead 1 (Lyon) and project IMP-2026-0001 started on 1 October 2026."""
    with Session(cli_db) as session:
        factories.project(session, cfg)
        session.commit()
    return cli_db


def run(*args: str) -> Result:
    with time_machine.travel(datetime(2026, 11, 23, 9, 0), tick=False):
        return runner.invoke(app, list(args))


def test_add_and_list_referential_then_create_a_project(cli_db: Engine) -> None:
    result = run(
        "ajouter",
        "etablissement",
        "--code",
        "CD-OERMINGEN",
        "--nom",
        HOSTILE,
        "--type",
        "CD",
        "--departement",
        "67",
        "--ville",
        "Oermingen",
    )
    assert result.exit_code == 0, result.output
    assert "Établissement ajouté(e) : identifiant 1" in result.output
    result = run(
        "ajouter",
        "personne",
        "--nom",
        "Camille Exemple",
        "--email",
        "camille@example.org",
        "--organisation",
        "DISP de Strasbourg",
        "--role",
        "disp",
        "--territoire",
        "STRASBOURG",
    )
    assert result.exit_code == 0, result.output
    result = run(
        "ajouter",
        "siae",
        "--siret",
        "000 000 018 00010",
        "--nom",
        "Emmaüs Mundo",
        "--type",
        "ACI",
        "--adresse",
        "1 rue",
        "--code-postal",
        "67970",
        "--ville",
        "Oermingen",
    )
    assert result.exit_code == 0, result.output
    result = run("projet", "creer", "--etablissement", "1", "--chef", "1", "--debut", "2026-12-26")
    assert result.exit_code == 0, result.output
    assert "Projet créé : IMP-2026-0001" in result.output
    assert "30/03/2027" in result.output and "Vendredi saint" in result.output
    with Session(cli_db) as session:
        assert session.exec(select(Establishment.name)).one() == HOSTILE
        assert session.exec(select(Siae.siret)).one() == "00000001800010"
    result = run("projet", "chronologie", "IMP-2026-0001")
    assert result.exit_code == 0 and HOSTILE in result.output


def test_list_timeline_copil_deliverable_and_abandon(seeded: Engine) -> None:
    result = run("projet", "lister")
    assert result.exit_code == 0, result.output
    assert "IMP-2026-0001" in result.output and "04/01/2027" in result.output
    result = run("projet", "chronologie", "1")
    assert result.exit_code == 0, result.output
    assert "au lieu du 01/01/2027 : Jour de l'an" in result.output and "(prévision)" in result.output
    result = run(
        "projet",
        "copil",
        "IMP-2026-0001",
        "--etape",
        "1",
        "--date",
        "2026-10-20",
        "--participants",
        "DISP, EP, SPIP",
        "--decisions",
        "Recensement des activités lancé",
    )
    assert result.exit_code == 0, result.output
    result = run(
        "projet", "livrable", "1", "--etape", "1", "--type", "recensement_activites", "--date", "2026-11-02"
    )
    assert result.exit_code == 0 and "Recensement des activités possibles" in result.output
    result = run("projet", "abandonner", "IMP-2026-0001", "--motif", "Locaux indisponibles", "--par", "1")
    assert result.exit_code == 0, result.output
    with Session(seeded) as session:
        assert session.exec(select(ImplantationProject.status)).one() == ProjectStatus.ABANDONED
        last = session.exec(select(TransitionLog).where(TransitionLog.transition == "abandonner")).one()
        assert (last.reason, last.actor_id) == ("Locaux indisponibles", 1)


def test_lateness_is_shown_in_days(seeded: Engine) -> None:
    with time_machine.travel(datetime(2027, 1, 14, 9, 0), tick=False):
        result = runner.invoke(app, ["projet", "lister"])
    assert result.exit_code == 0 and "│ 10 " in result.output.replace("\x1b", "")


def _csv(tmp_path: Path, text: str) -> str:
    path = tmp_path / "entree.csv"
    path.write_text(text, encoding="utf-8")
    return str(path)


BAD_INPUTS: list[tuple[str, Callable[[Path], list[str]], list[str]]] = [
    (
        "identifiant inconnu",
        lambda _: ["projet", "creer", "--etablissement", "999", "--chef", "1"],
        ["« etablissement »", "établissement introuvable « 999 »"],
    ),
    (
        "projet inconnu",
        lambda _: ["projet", "chronologie", "IMP-2030-0042"],
        ["Projet introuvable", "IMP-2030-0042"],
    ),
    (
        "chef inconnu",
        lambda _: ["projet", "creer", "--etablissement", "1", "--chef", "abc"],
        ["« chef »", "personne introuvable « abc »", "adresse électronique"],
    ),
    (
        "SIRET invalide",
        lambda _: [
            "ajouter",
            "siae",
            "--siret",
            "12345678901234",
            "--nom",
            "X",
            "--type",
            "ACI",
            "--adresse",
            "1 rue",
            "--code-postal",
            "38000",
            "--ville",
            "Grenoble",
        ],
        ["« siret »", "clé de contrôle"],
    ),
    (
        "type ETTI",
        lambda _: [
            "ajouter",
            "siae",
            "--siret",
            "00000002600013",
            "--nom",
            "X",
            "--type",
            "ETTI",
            "--adresse",
            "1 rue",
            "--code-postal",
            "38000",
            "--ville",
            "Grenoble",
        ],
        ["« type »", "ETTI", "seuls ACI ou EI"],
    ),
    (
        "dates inversées (liste)",
        lambda _: ["projet", "lister", "--du", "2027-01-01", "--au", "2026-01-01"],
        ["Dates inversées", "« --au »"],
    ),
    (
        "dates inversées (COPIL avant le début)",
        lambda _: [
            "projet",
            "copil",
            "1",
            "--etape",
            "1",
            "--date",
            "2026-09-01",
            "--participants",
            "DISP",
            "--decisions",
            "x",
        ],
        ["Dates inversées", "« date »"],
    ),
    (
        "date invalide",
        lambda _: ["projet", "creer", "--etablissement", "1", "--chef", "1", "--debut", "2026-02-30"],
        ["« debut »", "date invalide"],
    ),
    (
        "ligne CSV mal formée",
        lambda tmp: [
            "importer",
            "etablissements",
            _csv(
                tmp,
                "code;nom;type;departement;ville\nMA-MOULINS;Maison d'arrêt de Moulins;MA;03;Moulins\nCD-X;Trop court\nCP-Y;Centre;XX;38;Varces\n",
            ),
        ],
        ["Ligne 3 : 2 valeur(s) au lieu de 5"],
    ),
    (
        "ligne CSV invalide",
        lambda tmp: [
            "importer",
            "siae",
            _csv(
                tmp,
                "siret;nom;type;adresse;code_postal;ville\n00000002600013;A;ACI;1 rue;38000;Grenoble\n1;B;ETTI;1 rue;38000;Grenoble\n",
            ),
        ],
        ["Ligne 3, champ « siret »", "Ligne 3, champ « type »", "Import annulé"],
    ),
    (
        "chaîne de 10 ko",
        lambda _: [
            "ajouter",
            "etablissement",
            "--code",
            "MA-X",
            "--nom",
            "x" * 10240,
            "--type",
            "MA",
            "--departement",
            "03",
            "--ville",
            "Moulins",
        ],
        ["« nom »", "10240 caractères, 200 au maximum"],
    ),
    (
        "motif de 10 ko",
        lambda _: ["projet", "abandonner", "1", "--motif", "y" * 10240],
        ["« motif »", "10240 caractères"],
    ),
    ("motif vide", lambda _: ["projet", "abandonner", "1", "--motif", "  "], ["motif"]),
    ("fichier absent", lambda tmp: ["importer", "siae", str(tmp / "absent.csv")], ["Fichier introuvable"]),
    (
        "livrable inconnu",
        lambda _: [
            "projet",
            "livrable",
            "1",
            "--etape",
            "1",
            "--type",
            "{{ 7*7 }} <b>",
            "--date",
            "2026-11-02",
        ],
        ["« type »", "{{ 7*7 }} <b>", "inconnu pour l'étape 1"],
    ),
]


@pytest.mark.parametrize(("label", "args", "expected"), BAD_INPUTS, ids=[case[0] for case in BAD_INPUTS])
def test_bad_input_is_refused_in_french_and_writes_nothing(
    seeded: Engine,
    row_counts: Callable[[], dict[str, int]],
    tmp_path: Path,
    label: str,
    args: Callable[[Path], list[str]],
    expected: list[str],
) -> None:
    before = row_counts()
    result = run(*args(tmp_path))
    assert result.exit_code != 0, result.output
    assert "Erreur" in result.output
    for text in expected:
        assert text in result.output, result.output
    assert ("Traceback" not in result.output and result.exception is None) or isinstance(
        result.exception, SystemExit
    )
    assert row_counts() == before


def test_commands_refuse_an_uninitialised_database(
    fresh_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SIAE_DATABASE_URL", fresh_url)
    get_settings.cache_clear()
    try:
        result = run("projet", "lister")
        # The console wraps long lines (here, the database path) at the terminal's width.
        assert result.exit_code == 1 and "siae migrer" in " ".join(result.output.split())
        result = run("migrer")
        assert result.exit_code == 0 and "Base de données à jour" in result.output
        assert run("projet", "lister").output.strip() == "Aucun projet."
    finally:
        get_settings.cache_clear()


def test_missing_sqlite_file_is_not_created(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIAE_DATABASE_URL", f"sqlite:///{tmp_path / 'absente.db'}")
    get_settings.cache_clear()
    try:
        result = run("projet", "lister")
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1 and "Base de données absente" in result.output
    assert not (tmp_path / "absente.db").exists()


def test_usage_errors_are_french(capsys: pytest.CaptureFixture[str]) -> None:
    for argv, expected in (
        (["projet", "abandonner", "1"], "paramètre obligatoire manquant : « --motif »"),
        (["projet", "chronologie"], "paramètre obligatoire manquant : « PROJET »"),
        (["commande-inconnue"], "commande inconnue"),
        (["projet", "lister", "--couleur", "bleu"], "option inconnue : « --couleur »"),
    ):
        with pytest.raises(SystemExit) as stopped:
            main(argv)
        assert stopped.value.code == 2
        assert expected in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--help"], ["Commandes", "Affiche cette aide et quitte."]),
        (["projet", "--help"], ["Commandes", "Affiche cette aide et quitte."]),
        (["projet", "creer", "--help"], ["[obligatoire]", "Affiche cette aide et quitte."]),
    ],
)
def test_help_pages_are_french(
    argv: list[str], expected: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "160")
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    assert stopped.value.code == 0
    shown = capsys.readouterr().out
    assert all(text in shown for text in expected), shown
    assert not any(word in shown for word in ("Show this message", "[required]", "Commands"))


def test_unexpected_errors_print_french_without_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import typer

    monkeypatch.delenv("SIAE_DEBUG", raising=False)
    with pytest.raises(typer.Exit) as stopped, handled():
        raise RuntimeError("boom")
    assert stopped.value.exit_code == 1
    message = capsys.readouterr().err
    assert (
        "erreur inattendue (RuntimeError)" in message
        and "SIAE_DEBUG=1" in message
        and "Traceback" not in message
    )
    monkeypatch.setenv("SIAE_DEBUG", "1")
    with pytest.raises(RuntimeError), handled():
        raise RuntimeError("boom")


def test_unreachable_database_is_reported_in_french(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIAE_DATABASE_URL", "postgresql://personne@127.0.0.1:1/absente")
    get_settings.cache_clear()
    try:
        result = run("projet", "lister")
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1 and "base de données injoignable" in result.output
    assert "Traceback" not in result.output
