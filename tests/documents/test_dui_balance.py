"""The DUI prints the two-year balance that the stage-3 gate shows, and that balance adds up to its lines."""

import re
from decimal import Decimal
from pathlib import Path

from docx import Document
from sqlmodel import Session

from implantation.budget import project_balance_lines
from implantation.config.schema import ProcessConfig
from implantation.db.models import Establishment, ImplantationProject, Siae
from implantation.documents.service import generate_pack, project_dir
from implantation.enums import DocumentKind
from implantation.services.amounts import amount_book
from implantation.settings import Settings

HEADER = "Année, nature et ligne"
LINE = re.compile(r"^Année (\d), (charge|ressource) : (.+)$")
YEAR = re.compile(
    r"^Année (\d) \(à partir du .+?\) : charges (.+), ressources (.+) dont aides sollicitées (.+), solde (.+) \((.+)\)$"
)


def _amount(text: str) -> Decimal:
    """« 95 000,00 € » (no-break spaces), « -1 561,00 € » back to a Decimal."""
    plain = text.replace("\u00a0", "").replace("\u202f", "").replace(" ", "").replace("€", "")
    return Decimal(plain.replace(",", ".").replace("\u2212", "-"))


def _dui(session: Session, project_id: int, cfg: ProcessConfig, settings: Settings, new_operateur) -> Path:  # type: ignore[no-untyped-def]
    new_operateur(session, project_id)
    records = generate_pack(session, project_id, cfg, settings)
    record = next(r for r in records if r.kind == DocumentKind.DUI)
    return project_dir(settings, "IMP-2026-0001") / record.filename


def test_the_dui_balance_is_the_gate_s_and_equals_the_sum_of_its_lines(
    session: Session, project_id: int, cfg: ProcessConfig, settings: Settings, new_operateur
) -> None:
    project = session.get(ImplantationProject, project_id)
    assert project is not None
    sales = {"nature": "ressource", "libelle": "Ventes", "montant": "20000", "annee": "2"}
    project.budget_lines = [*(project.budget_lines or []), sales]  # a line of year 2, absent from year 1
    session.add(project)
    session.commit()
    doc = Document(str(_dui(session, project_id, cfg, settings, new_operateur)))
    table = next(t for t in doc.tables if t.rows[0].cells[0].text == HEADER)
    sums: dict[tuple[int, str], Decimal] = {}
    for row in table.rows[1:]:
        found = LINE.match(row.cells[0].text)
        assert found, row.cells[0].text
        key = (int(found.group(1)), found.group(2))
        sums[key] = sums.get(key, Decimal(0)) + _amount(row.cells[1].text)
    assert {year for year, _ in sums} == {1, 2}

    assert any(r.cells[0].text == "Année 2, ressource : Ventes" for r in table.rows)
    printed = [p.text for p in doc.paragraphs if YEAR.match(p.text)]
    assert len(printed) == 2
    for text in printed:
        found = YEAR.match(text)
        assert found is not None
        year = int(found.group(1))
        charges, resources, balance = (_amount(found.group(n)) for n in (2, 3, 5))
        assert charges == sums[(year, "charge")] and resources == sums[(year, "ressource")]
        assert balance == resources - charges, text

    # The very lines the stage-3 gate shows (tasks.describe), warning included when year 2 is short.
    siae = session.get(Siae, project.siae_id)
    establishment = session.get(Establishment, project.establishment_id)
    assert establishment is not None
    gate_lines = project_balance_lines(amount_book(session, cfg), project, siae, establishment)
    texts = [p.text for p in doc.paragraphs]
    assert gate_lines and all(line in texts for line in gate_lines), gate_lines

    # One computation: the first-year table of the DUI is year 1, line for line and in total.
    charges_table = next(t for t in doc.tables if t.rows[0].cells[0].text == "Poste de charges")
    first_year = [_amount(r.cells[1].text) for r in charges_table.rows[1:] if r.cells[0].text.strip()]
    assert first_year[-1] == sums[(1, "charge")] == sum(first_year[:-1])


def test_aids_above_the_charges_are_warned_as_over_compensation(
    session: Session, project_id: int, cfg: ProcessConfig
) -> None:
    project = session.get(ImplantationProject, project_id)
    assert project is not None
    project.budget_lines = [{"nature": "charge", "libelle": "Encadrement", "montant": "10000", "annee": "1"}]
    session.add(project)
    session.flush()
    siae = session.get(Siae, project.siae_id)
    establishment = session.get(Establishment, project.establishment_id)
    assert establishment is not None
    lines = project_balance_lines(amount_book(session, cfg), project, siae, establishment)
    warned = [line for line in lines if "surcompensation" in line]
    assert len(warned) == 2 and warned[0].startswith("Attention : en année 1, les aides sollicitées (254")
