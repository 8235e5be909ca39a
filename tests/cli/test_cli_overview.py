"""``siae tableau`` and ``siae calendrier`` against the migrated database of each backend."""

import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
import time_machine
from click.testing import Result
from openpyxl import load_workbook
from overview_world import Fleet, fleet
from sqlalchemy.engine import Engine
from sqlmodel import Session
from typer.testing import CliRunner

from implantation.cli import app
from implantation.config.schema import ProcessConfig
from implantation.settings import get_settings

runner = CliRunner()


@pytest.fixture
def world(
    engine: Engine, migrated_url: str, cfg: ProcessConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Fleet]:
    monkeypatch.setenv("SIAE_DATABASE_URL", migrated_url)
    monkeypatch.setenv("SIAE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COLUMNS", "240")
    get_settings.cache_clear()
    with Session(engine, expire_on_commit=False) as session:
        yield fleet(session, cfg)
    get_settings.cache_clear()


def run(*args: str) -> Result:
    with time_machine.travel(datetime(2027, 1, 18, 9, 0), tick=False):
        return runner.invoke(app, list(args))


def test_overview_on_screen(world: Fleet) -> None:
    result = run("tableau")
    assert result.exit_code == 0, result.output
    assert "Tableau national des implantations au 18/01/2027" in result.output
    for reference in ("IMP-2026-0001", "IMP-2026-0002", "IMP-2026-0003", "IMP-2026-0004"):
        assert reference in result.output
    assert "4 projet(s), dont 1 en retard" in result.output
    assert "suspendue le 11/01/2027" in result.output


def test_overview_filters_on_the_command_line(world: Fleet) -> None:
    late = run("tableau", "--en-retard")
    assert late.exit_code == 0 and "IMP-2026-0002" in late.output and "IMP-2026-0001" not in late.output
    lyon = run("tableau", "--disp", "LYON", "--etape", "2")
    assert "IMP-2026-0001" in lyon.output and "IMP-2026-0002" not in lyon.output
    region = run("tableau", "--region", "11", "--departement", "94")
    assert "IMP-2026-0003" in region.output and "1 projet(s)" in region.output
    none = run("tableau", "--departement", "67", "--en-retard")
    assert none.exit_code == 0 and "Aucun projet ne correspond." in none.output


def test_overview_exports(world: Fleet, tmp_path: Path) -> None:
    target = tmp_path / "tableau.csv"
    result = run("tableau", "--format", "csv", "--sortie", str(target))
    assert result.exit_code == 0, result.output
    assert "Tableau exporté (csv, 4 projet(s))" in result.output
    lines = target.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].startswith("Référence;Établissement;DISP;Région;Département")
    assert len(lines) == 5
    workbook = tmp_path / "retards.xlsx"
    result = run("tableau", "--en-retard", "--format", "xlsx", "--sortie", str(workbook))
    assert result.exit_code == 0, result.output
    sheet = load_workbook(workbook)["Projets"]
    assert [line[0].value for line in sheet.iter_rows(min_row=2)] == ["IMP-2026-0002"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--disp", "NANTES"), "Champ « disp » : DISP inconnue « NANTES »"),
        (("--etape", "9"), "Champ « etape » : numéro d'étape 9 invalide"),
        (("--format", "pdf", "--sortie", "x.pdf"), "Champ « format » : « pdf » inconnu"),
        (("--format", "csv"), "Champ « sortie » : fichier d'export manquant"),
    ],
)
def test_overview_refuses_bad_input_in_french(world: Fleet, args: tuple[str, ...], message: str) -> None:
    result = run("tableau", *args)
    assert result.exit_code == 1
    assert message in " ".join(result.output.split())


def test_calendar_of_a_project_and_of_a_person(world: Fleet, tmp_path: Path) -> None:
    from icalendar import Calendar

    planned = run("projet", "copil", "IMP-2026-0004", "--etape", "1", "--date", "2027-02-03", "--prevu")
    assert planned.exit_code == 0, planned.output
    found = re.search(
        r"COPIL prévu le 03/02/2027 pour IMP-2026-0004, étape 1 : identifiant (\d+)\.", planned.output
    )
    assert found, planned.output
    meeting = found.group(1)
    uid = f"imp-2026-0004-reunion-{meeting}@siae-penitentiaire"
    target = tmp_path / "projet.ics"
    result = run("calendrier", "IMP-2026-0004", "--sortie", str(target))
    assert result.exit_code == 0, result.output
    assert "Calendrier écrit (projet IMP-2026-0004, " in result.output
    events = {str(e["UID"]): e for e in Calendar.from_ical(target.read_bytes()).walk("VEVENT")}
    copil = events[uid]
    assert int(copil["SEQUENCE"]) == 0 and str(copil["STATUS"]) == "TENTATIVE"

    held = run(
        "projet", "copil", "IMP-2026-0004", "--etape", "1", "--date", "2027-02-05",
        "--participants", "DISP, EP", "--decisions", "Locaux retenus", "--reunion", meeting,
    )  # fmt: skip
    assert held.exit_code == 0, held.output
    run("calendrier", "IMP-2026-0004", "--sortie", str(target))
    events = {str(e["UID"]): e for e in Calendar.from_ical(target.read_bytes()).walk("VEVENT")}
    copil = events[uid]
    assert int(copil["SEQUENCE"]) == 1 and copil.decoded("DTSTART").isoformat() == "2027-02-05"

    mine = tmp_path / "moi.ics"
    result = run("calendrier", "--personne", "chef.ma-corbas@example.org", "--sortie", str(mine))
    assert result.exit_code == 0, result.output
    # A DISP person takes part in stage 1 of every project of the DISP: Corbas and Grenoble (Lyon).
    assert "2 projet(s) de chef.ma-corbas@example.org, 14 événement(s)" in result.output
    uids = {str(e["UID"]) for e in Calendar.from_ical(mine.read_bytes()).walk("VEVENT")}
    assert {uid[: len("imp-2026-0001")] for uid in uids} == {"imp-2026-0001", "imp-2026-0002"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("calendrier",), "indiquer un projet, ou bien --personne"),
        (("calendrier", "IMP-2026-0001", "--personne", "x@y.fr"), "indiquer un projet, ou bien --personne"),
        (("calendrier", "--personne", "inconnu@nulle.part"), "Champ « personne » : aucune personne"),
        (("calendrier", "IMP-2099-0001"), "Projet introuvable"),
        (("projet", "copil", "1", "--etape", "1", "--date", "2027-02-03"), "Champ « participants »"),
        (
            ("projet", "copil", "1", "--etape", "1", "--date", "2027-02-03", "--prevu", "--reunion", "1"),
            "Champ « reunion » : sans objet",
        ),
    ],
)
def test_calendar_refusals(world: Fleet, args: tuple[str, ...], message: str) -> None:
    result = run(*args)
    assert result.exit_code == 1
    assert message in " ".join(result.output.split())


@pytest.mark.parametrize("columns", ["240", "150", "80"])
def test_overview_fits_the_screen_width(world: Fleet, columns: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Widths computed by the command on a wide or middling screen, laid out by rich on a narrow one: the
    table never runs past the screen, and every project is there."""
    monkeypatch.setenv("COLUMNS", columns)
    result = run("tableau")
    assert result.exit_code == 0, result.output
    assert max(len(line) for line in result.output.splitlines()) <= int(columns)
    if int(columns) >= 150:
        for reference in ("IMP-2026-0001", "IMP-2026-0002", "IMP-2026-0003", "IMP-2026-0004"):
            assert reference in result.output
        assert "4 projet(s), dont 1 en retard" in result.output
