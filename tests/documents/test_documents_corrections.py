"""Convention, contrat d'implantation, DUI and CEP annex: each corrected point as a computed value."""

from datetime import date
from decimal import Decimal

from docx import Document
from sqlmodel import Session

from implantation.config.schema import ProcessConfig
from implantation.db.models import ImplantationProject, Siae
from implantation.documents.builders import (
    build_cep_annex_context,
    build_convention_context,
    build_dui_context,
    build_implantation_context,
)
from implantation.documents.service import generate_pack, project_dir
from implantation.enums import DocumentKind, SiaeKind
from implantation.settings import Settings

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
    assert charges == _amount(ctx.charges_total) == Decimal("277703.44")
    assert resources == _amount(ctx.resources_total) == Decimal("274170.50")
    assert ctx.budget_balance.startswith(f"Besoin de financement de 3{NBSP}532,94{NBSP}€ la première année")
    assert [r.label.split(" (hypothèse")[0] for r in ctx.resources[:2]] == [
        "Aide au poste (DREETS), sollicitée",
        "Aide au démarrage (ATIGIP), sollicitée",
    ]
    assert all("(hypothèse : montant en vigueur au 06/12/2026 (" in r.label for r in ctx.resources[:2])
    # ACI: the SIAE bears net pay only: 10 ETP × 1 350 h × 5,41 € = 73 035 € gross, less the worker's old-age
    # contributions (6,90 % + 0,40 %, CSS D242-4) = 5 331,56 €.
    pay = ctx.charges[0]
    assert pay.label.startswith("Rémunérations nettes des opérateurs, remboursées à l'établissement (13")
    assert _amount(pay.amount) == Decimal("73035") - Decimal("5039.42") - Decimal("292.14")


def test_dui_of_an_ei_charges_gross_pay_and_employer_contributions(
    session: Session, project_id: int, cfg: ProcessConfig
) -> None:
    _set_kind(session, project_id, SiaeKind.EI)
    ctx = build_dui_context(session, project_id, cfg)
    employer = {  # on 73 035 € gross, each at its rate (AT/MP: the establishment's 1,50 %)
        "maladie 4,20 %": Decimal("3067.47"),
        "CSA 0,30 %": Decimal("219.11"),
        "vieillesse plafonnée 8,55 %": Decimal("6244.49"),
        "vieillesse déplafonnée 2,11 %": Decimal("1541.04"),
        "AT/MP 1,50 %": Decimal("1095.53"),
    }
    assert ctx.charges[0].label.startswith("Rémunérations brutes et cotisations patronales des opérateurs")
    assert _amount(ctx.charges[0].amount) == Decimal("73035") + sum(employer.values())


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


def test_a_2027_annexe_financiere_takes_the_aid_in_force_as_a_hypothesis(
    session: Session, project_id: int, cfg: ProcessConfig
) -> None:
    """No arrêté is known past the one of 4 December 2024: its amount stays in force, and a convention year
    past the usual revaluation date says it is a hypothesis."""
    project = session.get(ImplantationProject, project_id)
    assert project is not None
    project.convention_start, project.convention_end = date(2027, 2, 1), date(2028, 1, 31)
    session.add(project)
    session.flush()
    ctx = build_convention_context(session, project_id, cfg)
    assert ctx.annex.socle_unit == f"23{NBSP}921,00{NBSP}€"
    assert ctx.annex.socle_source.startswith(
        "hypothèse : montant en vigueur au 06/12/2026 (Arrêté du 4 décembre 2024"
    )
    project.convention_start, project.convention_end = date(2026, 3, 1), date(2029, 2, 28)
    session.add(project)
    session.flush()
    fixed = build_convention_context(session, project_id, cfg)
    assert fixed.annex.socle_source.startswith("Arrêté du 4 décembre 2024")


def test_cep_annex_has_health_and_safety_and_non_payment(
    session: Session, project_id: int, cfg: ProcessConfig, new_operateur
) -> None:
    ctx = build_cep_annex_context(session, project_id, new_operateur(session, project_id), cfg)
    assert (
        "santé et à la sécurité au travail" in ctx.health_safety
        and "équipements de protection" in ctx.health_safety
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
        assert props.created is not None and props.created.year >= 2026  # not the template's 2013
        assert "python-docx" not in (props.author + props.last_modified_by + props.comments)
