"""The demonstration's stage-5 pack (make demo's data, dated two months ahead) on both backends, without Prefect.

The shipped amounts cover the demonstration's dates (in force until replaced): only the AT/MP rate of the
demonstration establishment, which received no notice, comes from the demonstration file. The CEPs that
use it are marked and cannot be signed; the other documents are real ones.
"""

from datetime import date
from decimal import Decimal
from pathlib import Path

import factories
import pytest
from docx import Document
from sqlmodel import Session, select

from flows.harness.samples import seed
from implantation.config.schema import ProcessConfig
from implantation.db.models import ImplantationProject, Operateur, Person
from implantation.documents.builders import DocumentDataError, build_cep_context, build_dui_context
from implantation.documents.parties import printed_signer
from implantation.documents.service import generate_pack, project_dir, record_signature
from implantation.enums import DocumentKind, DocumentStatus, Role
from implantation.services import workflow
from implantation.services.errors import DomainError
from implantation.settings import Settings

NBSP = "\u00a0"
LAUNCH = date(2026, 12, 14)
BANNER = "DOCUMENT DE DÉMONSTRATION : montants non réglementaires, ne pas signer"


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


def test_demo_pack_uses_the_shipped_amounts_and_marks_only_what_uses_a_demonstration_one(
    session: Session, demo_cfg: ProcessConfig, demo_config_dir: Path, tmp_path: Path
) -> None:
    project_id = _demo_project(session, demo_cfg)
    dui = build_dui_context(session, project_id, demo_cfg)
    charges = sum(_amount(c.amount) for c in dui.charges)
    resources = sum(_amount(r.amount) for r in dui.resources)
    assert charges == _amount(dui.charges_total) and resources == _amount(dui.resources_total)
    assert dui.demonstration_banner == "" and "DÉMONSTRATION" not in dui.model_dump_json()
    settings = Settings(data_dir=tmp_path / "data", config_dir=demo_config_dir, soffice_path=None)
    records = generate_pack(session, project_id, demo_cfg, settings)
    project = session.get(ImplantationProject, project_id)
    assert project is not None
    assert {r.kind for r in records if r.demonstration} == {DocumentKind.CEP}
    cep_record = next(r for r in records if r.kind == DocumentKind.CEP)
    cep = build_cep_context(session, project_id, cep_record.operateur_id or "", demo_cfg)
    # 22 h a week at the 5,41 € floor: 95,33 h a month, 515,74 € gross; the fictitious AT/MP rate says so.
    assert (cep.schedule.weekly_hours, cep.monthly_gross) == ("22 h", f"515,74{NBSP}€")
    assert cep.demonstration_banner == BANNER
    atmp = next(c for c in cep.contributions if c.label.startswith("Accidents du travail"))
    assert "DÉMONSTRATION : taux AT/MP fictif" in atmp.source
    doc = Document(str(project_dir(settings, project.reference) / cep_record.filename))
    assert [p.text for s in doc.sections for p in s.header.paragraphs] == [BANNER]
    assert doc.core_properties.title.startswith(f"{BANNER} — ")

    # Signing a demonstration document is refused, whoever signs; the real ones are signed by their signatory.
    assert cep_record.id is not None
    with pytest.raises(DomainError, match="est un document de démonstration, produit avec des montants"):
        record_signature(session, cep_record.id, Role.SIAE, "Bernard Aubry", LAUNCH, demo_cfg, today=LAUNCH)
    dui_record = next(r for r in records if r.kind == DocumentKind.DUI)
    signer = printed_signer(session, demo_cfg, project_id, None, DocumentKind.DUI, Role.SIAE)
    assert signer is not None and dui_record.id is not None
    signed = record_signature(session, dui_record.id, signer[0], signer[1], LAUNCH, demo_cfg, today=LAUNCH)
    assert signed.status == DocumentStatus.SIGNED


def test_on_the_shipped_amounts_the_demo_cep_names_the_missing_atmp_rate(
    session: Session, cfg: ProcessConfig, demo_cfg: ProcessConfig
) -> None:
    """Without the demonstration file, the only gap is the establishment's AT/MP rate, named with its command."""
    project_id = _demo_project(session, demo_cfg)
    build_dui_context(session, project_id, cfg)  # an ACI's budget needs no employer rate
    project = session.get(ImplantationProject, project_id)
    assert project is not None
    op = session.exec(select(Operateur).where(Operateur.project_id == project_id)).first()
    assert op is not None
    with pytest.raises(DocumentDataError) as refused:
        build_cep_context(session, project_id, op.id, cfg)
    assert len(refused.value.problems) == 1
    assert "siae montants ajouter taux_atmp" in refused.value.problems[0]
