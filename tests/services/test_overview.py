"""The national overview: one row per project, its filters, its exports, and a fixed number of queries."""

import csv
import io
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook
from overview_world import TODAY, Fleet, fleet
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session

from implantation.config.schema import ProcessConfig
from implantation.enums import StageStatus
from implantation.services.errors import DomainError
from implantation.services.overview import OverviewFilters, counts, overview
from implantation.services.overview_chart import chart_png
from implantation.services.overview_export import COLUMNS, LATE_FILL, SUSPENDED_FILL, to_csv, write_xlsx


@pytest.fixture
def world(session: Session, cfg: ProcessConfig) -> Fleet:
    return fleet(session, cfg)


def _refs(rows: list) -> list[str]:
    return [row.reference for row in rows]


def test_one_row_per_project_with_its_stage_delay_and_last_decision(
    session: Session, cfg: ProcessConfig, world: Fleet
) -> None:
    rows = {row.project_id: row for row in overview(session, cfg, TODAY)}
    assert len(rows) == 4
    grenoble = rows[world.grenoble]
    assert (grenoble.disp, grenoble.region, grenoble.departement) == ("LYON", "Auvergne-Rhône-Alpes", "38")
    assert (grenoble.stage, grenoble.stage_status, grenoble.pilot_roles) == (
        2,
        StageStatus.OPEN,
        "DREETS + DDETS",
    )
    assert grenoble.last_decision == "Approbation" and grenoble.last_decision_by == "Disp Exemple"
    assert grenoble.late_days == 0 and (grenoble.documents_signed, grenoble.documents_required) == (0, 3)
    corbas = rows[world.corbas]
    # Due Thursday 1 October 2026; late by the working days of the Rhône up to Monday 18 January 2027
    # (77 weekdays, less Armistice, Christmas and New Year's Day).
    assert corbas.due_on == date(2026, 10, 1)
    assert corbas.late_days == 74
    assert corbas.last_decision is None
    fresnes = rows[world.fresnes]
    assert fresnes.stage_status == StageStatus.SUSPENDED and fresnes.suspended_on == date(2027, 1, 11)
    assert fresnes.suspension_reason == "Plan des locaux attendu de l'établissement"
    assert fresnes.last_decision == "Suspension"
    assert [r.late for r in rows.values()] == [False, True, False, False]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (OverviewFilters(disp="lyon"), ["grenoble", "corbas"]),
        (OverviewFilters(region="84"), ["grenoble", "corbas"]),
        (OverviewFilters(region="Grand Est"), ["strasbourg"]),
        (OverviewFilters(departement="94"), ["fresnes"]),
        (OverviewFilters(stage=2), ["grenoble"]),
        (OverviewFilters(late_only=True), ["corbas"]),
        (OverviewFilters(disp="LYON", stage=1), ["corbas"]),
        (OverviewFilters(disp="PARIS", departement="38"), []),
    ],
)
def test_filters(
    session: Session, cfg: ProcessConfig, world: Fleet, filters: OverviewFilters, expected: list[str]
) -> None:
    ids = {getattr(world, name) for name in expected}
    assert {row.project_id for row in overview(session, cfg, TODAY, filters)} == ids


@pytest.mark.parametrize(
    ("filters", "field"),
    [
        (OverviewFilters(disp="NANTES"), "disp"),
        (OverviewFilters(region="Atlantide"), "region"),
        (OverviewFilters(departement="99"), "departement"),
        (OverviewFilters(stage=7), "etape"),
    ],
)
def test_unknown_filter_values_are_refused_in_french(
    session: Session, cfg: ProcessConfig, world: Fleet, filters: OverviewFilters, field: str
) -> None:
    with pytest.raises(DomainError) as caught:
        overview(session, cfg, TODAY, filters)
    assert caught.value.field == field
    assert f"Champ « {field} »" in str(caught.value)


def test_a_fixed_number_of_queries_whatever_the_number_of_projects(
    session: Session, engine: Engine, cfg: ProcessConfig, world: Fleet
) -> None:
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", count)
    try:
        overview(session, cfg, TODAY)
        with_four = len(statements)
        for _ in range(3):
            fleet_more(session, cfg)
        statements.clear()
        assert len(overview(session, cfg, TODAY)) == 7
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(statements) == with_four <= 6


def fleet_more(session: Session, cfg: ProcessConfig) -> None:
    import factories

    from implantation.enums import Role
    from implantation.services.workflow import Actor, create_project

    number = len(overview(session, cfg, TODAY)) + 1
    site = factories.establishment(session, cfg, code=f"EXTRA-{number}", departement="13", ville="Marseille")
    lead = factories.person(session, cfg, Role.DISP, "MARSEILLE", email=f"extra{number}@example.org")
    assert site.id is not None and lead.id is not None
    create_project(session, cfg, site.id, lead.id, date(2026, 12, 1), Actor.of(lead))
    session.commit()


def test_csv_export(session: Session, cfg: ProcessConfig, world: Fleet) -> None:
    text = to_csv(overview(session, cfg, TODAY))
    table = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert table[0] == list(COLUMNS)
    by_ref = {line[0]: dict(zip(COLUMNS, line, strict=True)) for line in table[1:]}
    corbas = by_ref["IMP-2026-0002"]
    assert corbas["Établissement"] == "Établissement MA-CORBAS"
    assert corbas["Échéance"] == "01/10/2026"
    assert corbas["Retard (jours ouvrés)"] == "74"
    assert by_ref["IMP-2026-0003"]["Suspendue depuis"] == "11/01/2027"


def test_xlsx_export_read_back(session: Session, cfg: ProcessConfig, world: Fleet, tmp_path: Path) -> None:
    rows = overview(session, cfg, TODAY)
    path = tmp_path / "tableau.xlsx"
    write_xlsx(rows, cfg, path, TODAY, chart_png(rows, TODAY, cfg.stage_numbers))
    book = load_workbook(path)
    assert book.sheetnames == ["Projets", "Synthèse"]
    sheet = book["Projets"]
    assert [c.value for c in sheet[1]] == list(COLUMNS)
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:V{len(rows) + 1}"
    lines = {line[0].value: line for line in sheet.iter_rows(min_row=2)}
    assert set(lines) == {r.reference for r in rows}
    due = lines["IMP-2026-0002"][COLUMNS.index("Échéance")]
    assert due.value.date() == date(2026, 10, 1) and due.number_format == "DD/MM/YYYY"
    highlighted = {ref for ref, line in lines.items() if line[0].fill.fgColor.rgb.endswith(LATE_FILL)}
    assert highlighted == {"IMP-2026-0002"}
    assert lines["IMP-2026-0003"][0].fill.fgColor.rgb.endswith(SUSPENDED_FILL)
    summary = book["Synthèse"]
    values = [[c.value for c in line] for line in summary.iter_rows()]
    assert [1, cfg.stage(1).titre, 3, 1] in values
    assert [2, cfg.stage(2).titre, 1, 0] in values
    assert ["LYON", cfg.territory.disp["LYON"], 2, 1] in values
    assert ["PARIS", cfg.territory.disp["PARIS"], 1, 0] in values
    assert len(summary._images) == 1


def test_counts_and_chart(session: Session, cfg: ProcessConfig, world: Fleet) -> None:
    figures = counts(overview(session, cfg, TODAY), cfg.stage_numbers)
    assert figures.per_stage == {1: 3, 2: 1, 3: 0, 4: 0, 5: 0, 6: 0}
    assert figures.late_per_disp == {"LYON": 1}
    png = chart_png(overview(session, cfg, TODAY), TODAY, cfg.stage_numbers)
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000
