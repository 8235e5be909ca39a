"""DUI IAE: the SIAE's application file, with its forecast budget."""

from decimal import Decimal

from sqlmodel import Session

from implantation import contract_rules as rules
from implantation.budget import YearBalance, balance_lines, project_balances
from implantation.config.schema import ProcessConfig
from implantation.documents import formatting as fmt
from implantation.documents.builders.common import (
    SHORT_LABEL,
    BudgetItem,
    Checker,
    ProjectData,
    budget_items,
    exact,
)
from implantation.documents.contexts import BudgetLine, DuiContext, SiaeIdentity, YearLine
from implantation.eligibility import implantation_kind_problem
from implantation.enums import DocumentKind


def build_dui_context(session: Session, project_id: int, cfg: ProcessConfig) -> DuiContext:
    data = ProjectData(session, project_id, cfg)
    p, est = data.project, data.establishment
    check = Checker(SHORT_LABEL[DocumentKind.DUI])
    parties = data.parties(check)
    data.check_party_names(check, DocumentKind.DUI)
    siae = data.siae
    if siae is not None:
        check.need(siae.naf_code, "le code NAF de la SIAE")
        check.need(siae.idcc, "l'IDCC (convention collective) de la SIAE")
        check.need(siae.legal_form, "la forme juridique de la SIAE")
        check.need(siae.president, "le président de la SIAE")
        check.need(siae.director, "le directeur de la SIAE")
        check.refuse(implantation_kind_problem(siae.kind, cfg.eligibility))
    check.need(p.activity, "l'activité du projet")
    check.need(est.premises, "les locaux mis à disposition dans l'établissement")
    check.need(p.launch_date, "la date de démarrage de l'activité")
    check.need(p.insertion_posts_count, "le nombre de postes d'insertion")
    check.need(p.insertion_posts_etp, "le nombre de postes d'insertion (ETP)")
    check.need(p.staff_eti_etp, "l'effectif d'encadrants techniques d'insertion (ETP)")
    check.need(p.staff_cip_etp, "l'effectif de conseillers en insertion professionnelle (ETP)")
    check.need(p.accompaniment_plan, "le plan d'accompagnement socio-professionnel")
    check.need(p.insertion_targets, "les objectifs de retour à l'emploi")
    check.need(p.partners, "les partenaires du projet")
    own_charges, own_resources = budget_items(check, p.budget_lines)
    aid = data.aide_au_poste(check, p.launch_date)
    startup = pay = None
    if (launch := p.launch_date) is not None:
        if siae is not None and p.insertion_posts_etp is not None:
            etp = exact(p.insertion_posts_etp)
            kind = siae.kind
            pay = data.rule(check, lambda: rules.operator_pay_charge(cfg.money, kind, launch, etp))
        startup = data.rule(
            check,
            lambda: rules.amount_on(
                cfg.money.aide_au_demarrage_atigip,
                launch,
                "aide au démarrage ATIGIP",
                "aide_au_demarrage_atigip",
            ),
        )
    balances, balance_problems = project_balances(cfg.money, p, siae)
    if siae is not None and p.budget_lines and p.launch_date and p.insertion_posts_etp is not None:
        for problem in balance_problems:  # a gap in montants.toml; a missing value is named above
            check.refuse(problem)
    check.done()
    assert parties is not None and siae is not None and aid is not None and startup is not None
    assert pay is not None and p.launch_date is not None
    what = "rémunérations nettes" if pay.net_only else "rémunérations brutes et cotisations patronales"
    pay_line = BudgetItem(
        f"Opérateurs : {what} ({fmt.fr_number(pay.hours)} h à {fmt.fr_money(pay.rate)}, plancher au "
        f"{fmt.fr_date(p.launch_date)})",
        pay.charge,
    )
    charges = [*own_charges, pay_line]
    requested = [
        BudgetItem("Aide au poste (DREETS), première année, sollicitée", aid.total),
        BudgetItem("Aide au démarrage (ATIGIP), sollicitée", startup.valeur),
    ]
    resources = [*requested, *own_resources]
    charges_total = sum((c.amount for c in charges), Decimal(0))
    resources_total = sum((r.amount for r in resources), Decimal(0))
    requested_total = sum((r.amount for r in requested), Decimal(0))
    gap = resources_total - charges_total
    balance = (
        "Budget équilibré"
        if gap == 0
        else f"{'Excédent' if gap > 0 else 'Besoin de financement'} de {fmt.fr_money(abs(gap))}"
    )
    balance += (
        f", aides sollicitées comprises ({fmt.fr_money(requested_total)}, non encore accordées) ; sans elles, "
        f"besoin de financement de {fmt.fr_money(charges_total - resources_total + requested_total)}."
        if charges_total > resources_total - requested_total
        else f", aides sollicitées comprises ({fmt.fr_money(requested_total)}, non encore accordées)."
    )
    return DuiContext(
        **data.common(DocumentKind.DUI, parties),
        siae=SiaeIdentity(
            name=siae.name,
            kind_label=f"{siae.kind.label} ({siae.kind.value})",
            siret=siae.siret,
            address=f"{siae.address}, {siae.postal_code} {siae.city}",
            naf_code=siae.naf_code or "",
            idcc=siae.idcc or "",
            legal_form=siae.legal_form or "",
            president=siae.president or "",
            director=siae.director or "",
        ),
        establishment=data.establishment_ref(),
        activity=p.activity or "",
        premises=est.premises or "",
        start_date=fmt.fr_date(p.launch_date),
        posts_count=fmt.fr_number(p.insertion_posts_count),  # type: ignore[arg-type]
        posts_etp=fmt.fr_number(p.insertion_posts_etp),  # type: ignore[arg-type]
        staff_eti_etp=fmt.fr_number(p.staff_eti_etp),  # type: ignore[arg-type]
        staff_cip_etp=fmt.fr_number(p.staff_cip_etp),  # type: ignore[arg-type]
        accompaniment_plan=p.accompaniment_plan or "",
        insertion_targets=p.insertion_targets or "",
        partners=p.partners or "",
        charges=[BudgetLine(label=c.label, amount=fmt.fr_money(c.amount)) for c in charges],
        charges_total=fmt.fr_money(charges_total),
        resources=[BudgetLine(label=r.label, amount=fmt.fr_money(r.amount)) for r in resources],
        resources_total=fmt.fr_money(resources_total),
        budget_balance=balance,
        two_year_lines=_year_lines(balances),
        two_year_balance=balance_lines(balances),
    )


def _year_lines(balances: list[YearBalance]) -> list[YearLine]:
    return [
        YearLine(year=str(b.year), nature=nature, label=line.label, amount=fmt.fr_money(line.amount))
        for b in balances
        for nature, lines in (("charge", b.charges), ("ressource", b.resources))
        for line in lines
    ]
