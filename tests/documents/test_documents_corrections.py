"""Convention, contrat d'implantation, DUI and CEP annex: each corrected point as a computed value."""

from datetime import date
from decimal import Decimal

import pytest
from docx import Document
from sqlmodel import Session

from implantation.config.loader import load_process_config
from implantation.config.schema import ProcessConfig
from implantation.db.models import ImplantationProject, Siae
from implantation.documents.builders import (
    DocumentDataError,
    build_cep_annex_context,
    build_convention_context,
    build_dui_context,
    build_implantation_context,
)
from implantation.documents.service import generate_pack, project_dir
from implantation.enums import DocumentKind, SiaeKind
from implantation.settings import PROJECT_ROOT, Settings

NBSP = "\u00a0"


def _amount(text: str) -> Decimal:
    return Decimal(text.removesuffix(f"{NBSP}€").replace(NBSP, "").replace(",", "."))


def _set_kind(session: Session, project_id: int, kind: SiaeKind) -> None:
    project = session.get(ImplantationProject, project_id)
    assert project is not None
    siae = session.get(Siae, project.siae_id)
    assert siae is not None
    siae.kind = kind
    session.add(siae)
    session.flush()


def test_dui_balance_is_the_sum_of_its_lines_with_the_aid_requested_and_the_pay(
    session: Session, project_id: int, cfg: ProcessConfig
) -> None:
    ctx = build_dui_context(session, project_id, cfg)
    charges = sum(_amount(c.amount) for c in ctx.charges)
    resources = sum(_amount(r.amount) for r in ctx.resources)
    assert charges == _amount(ctx.charges_total) == Decimal("275731.50")
    assert resources == _amount(ctx.resources_total) == Decimal("274170.50")
    assert ctx.budget_balance.startswith(f"Besoin de financement de 1{NBSP}561,00{NBSP}€")
    assert [r.label for r in ctx.resources[:2]] == [
        "Aide au poste (DREETS), première année, sollicitée",
        "Aide au démarrage (ATIGIP), sollicitée",
    ]
    # ACI: the SIAE bears net pay only; 10 ETP × 1 350 h × 5,41 € = 73 035 € gross, less 10 % (demonstration rate).
    pay = ctx.charges[-1]
    assert pay.label.startswith("Opérateurs : rémunérations nettes (13") and _amount(pay.amount) == Decimal(
        "65731.50"
    )


def test_dui_of_an_ei_charges_gross_pay_and_employer_contributions(
    session: Session, project_id: int, cfg: ProcessConfig
) -> None:
    _set_kind(session, project_id, SiaeKind.EI)
    ctx = build_dui_context(session, project_id, cfg)
    assert _amount(ctx.charges[-1].amount) == Decimal("76686.75")  # 73 035 + 5 % (demonstration rate)


def test_contract_invoices_net_pay_only_for_an_aci_and_gives_a_notice_period(
    session: Session, project_id: int, cfg: ProcessConfig
) -> None:
    ctx = build_implantation_context(session, project_id, cfg)
    assert ctx.invoicing == cfg.contracts.remboursement_remuneration[SiaeKind.ACI].texte
    assert "rémunérations nettes" in ctx.invoicing and "restent à sa charge" in ctx.invoicing
    assert "au moins 3 mois avant l'échéance" in ctx.renewal_clause
    assert "dans la limite de 7 ans" in ctx.renewal_clause
    _set_kind(session, project_id, SiaeKind.EI)
    ei = build_implantation_context(session, project_id, cfg)
    assert "cotisations sociales afférentes" in ei.invoicing


def test_convention_lists_every_financial_mean(session: Session, project_id: int, cfg: ProcessConfig) -> None:
    ctx = build_convention_context(session, project_id, cfg)
    means = {m.label: m.detail for m in ctx.means}
    assert means["Aide au poste (DREETS), sollicitée"].startswith(f"251{NBSP}170,50{NBSP}€ par an")
    assert means["Aide au démarrage (ATIGIP), sollicitée"].startswith(f"3{NBSP}000,00{NBSP}€")
    assert "cotisations sociales des opérateurs (ACI)" in means["Apports de l'établissement"]
    assert means["Conseil départemental de la Gironde"] == f"20{NBSP}000,00{NBSP}€ (budget prévisionnel)"


def test_a_2027_annexe_financiere_is_refused_without_a_2027_aide_au_poste(
    session: Session, project_id: int
) -> None:
    shipped = load_process_config(PROJECT_ROOT / "config")
    project = session.get(ImplantationProject, project_id)
    assert project is not None
    project.convention_start, project.convention_end = date(2027, 2, 1), date(2028, 1, 31)
    session.add(project)
    session.flush()
    with pytest.raises(DocumentDataError) as refused:
        build_convention_context(session, project_id, shipped)
    assert "« aide au poste, montant socle ACI » en vigueur au 01/02/2027" in str(refused.value)
    assert "config/montants.toml (clé « aide_au_poste_socle.ACI »)" in str(refused.value)


def test_cep_annex_has_health_and_safety_and_non_payment(
    session: Session, project_id: int, cfg: ProcessConfig, new_operateur
) -> None:
    ctx = build_cep_annex_context(session, project_id, new_operateur(session, project_id), cfg)
    assert (
        "hygiène et à la sécurité" in ctx.health_safety and "équipements de protection" in ctx.health_safety
    )
    assert "met la SIAE en demeure de payer" in ctx.non_payment
    assert "L412-11" in ctx.non_payment_source


def test_docx_properties_name_the_document_the_issuer_and_the_project(
    session: Session, project_id: int, cfg: ProcessConfig, settings: Settings, new_operateur
) -> None:
    new_operateur(session, project_id)
    folder = project_dir(settings, "IMP-2026-0001")
    for record in generate_pack(session, project_id, cfg, settings):
        props = Document(str(folder / record.filename)).core_properties
        assert props.title == cfg.documents.document[record.kind].titre
        assert props.author == (
            "DDETS de la Gironde"
            if record.kind in (DocumentKind.DUI, DocumentKind.CONVENTION)
            else "Maison d'arrêt de Bordeaux-Gradignan (chef d'établissement)"
        )
        assert props.subject.startswith("Implantation de la SIAE Atelier Solidaire Garonne")
        assert props.keywords == props.identifier == "IMP-2026-0001"
        assert "python-docx" not in (props.author + props.last_modified_by + props.comments)
