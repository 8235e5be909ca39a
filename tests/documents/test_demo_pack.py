"""The demonstration's stage-5 pack (make demo's data, dated two months ahead) on both backends, without Prefect."""

from datetime import date
from decimal import Decimal
from pathlib import Path

import factories
import pytest
from docx import Document
from sqlmodel import Session

from implantation.config.loader import load_process_config
from implantation.config.schema import ProcessConfig
from implantation.db.models import ImplantationProject, Person
from implantation.documents.builders import DocumentDataError, build_cep_context, build_dui_context
from implantation.documents.service import generate_pack, project_dir
from implantation.enums import DocumentKind
from implantation.samples import seed
from implantation.services import workflow
from implantation.settings import PROJECT_ROOT, Settings

NBSP = "\u00a0"
LAUNCH = date(2027, 2, 1)


def _demo_project(session: Session, cfg: ProcessConfig) -> int:
    ids = seed(session)
    lead = session.get(Person, ids.lead_id)
    assert lead is not None
    project = workflow.create_project(
        session, cfg, ids.establishment_id, ids.lead_id, date(2026, 10, 1), workflow.Actor.of(lead)
    )
    project.siae_id = ids.siae_id
    project.activity = "Tri de textiles"
    session.add(project)
    session.flush()
    assert project.id is not None
    factories.complete_for_documents(session, cfg, project, LAUNCH)
    return project.id


def _amount(text: str) -> Decimal:
    return Decimal(text.removesuffix(f"{NBSP}€").replace(NBSP, "").replace(",", "."))


def test_demo_cep_states_contributions_in_euros_and_the_dui_balances(
    session: Session, demo_cfg: ProcessConfig, demo_config_dir: Path, tmp_path: Path
) -> None:
    project_id = _demo_project(session, demo_cfg)
    dui = build_dui_context(session, project_id, demo_cfg)
    charges = sum(_amount(c.amount) for c in dui.charges)
    resources = sum(_amount(r.amount) for r in dui.resources)
    assert charges == _amount(dui.charges_total) and resources == _amount(dui.resources_total)
    gap = resources - charges
    assert dui.budget_balance.startswith(
        ("Excédent de " if gap > 0 else "Besoin de financement de ")
        + f"{abs(gap):,.2f}".replace(",", NBSP).replace(".", ",")
    )
    settings = Settings(data_dir=tmp_path / "data", config_dir=demo_config_dir, soffice_path=None)
    records = generate_pack(session, project_id, demo_cfg, settings)
    project = session.get(ImplantationProject, project_id)
    assert project is not None
    cep_record = next(r for r in records if r.kind == DocumentKind.CEP)
    cep = build_cep_context(session, project_id, cep_record.operateur_id or "", demo_cfg)
    # 24 h a week at the 5,41 € floor: 104 h, 562,64 € gross; 15 % of demonstration rates: 84,39 €.
    assert (cep.schedule.weekly_hours, cep.monthly_gross, cep.contributions_total) == (
        "24 h",
        f"562,64{NBSP}€",
        f"84,39{NBSP}€",
    )
    doc = Document(str(project_dir(settings, project.reference) / cep_record.filename))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert f"les cotisations sociales s'élèvent à 84,39{NBSP}€" in text


def test_demo_dates_are_refused_on_the_shipped_amounts(session: Session, demo_cfg: ProcessConfig) -> None:
    """Without the demonstration amounts, a 2027 pack is refused: no 2027 SMIC nor aide au poste is known."""
    project_id = _demo_project(session, demo_cfg)
    shipped = load_process_config(PROJECT_ROOT / "config")
    with pytest.raises(DocumentDataError) as refused:
        build_dui_context(session, project_id, shipped)
    assert any("aide_au_poste_socle.ACI" in p for p in refused.value.problems)
