"""DUI IAE: the SIAE's application file, with its forecast budget.

The budget tables are the years of :mod:`implantation.budget`, the same computation as the stage-3 gate:
the first-year table is year 1, the two-year table repeats both years line by line, and the warnings (year 2
unbalanced, aids above the charges) are printed under them. Every computed amount is a forecast and says
so: « hypothèse : montant en vigueur au JJ/MM/AAAA (texte) ».
"""

from sqlmodel import Session

from implantation.budget import YearBalance, balance_lines, project_balances
from implantation.config.schema import ProcessConfig
from implantation.documents import formatting as fmt
from implantation.documents.builders.common import SHORT_LABEL, Checker, ProjectData, budget_items
from implantation.documents.contexts import BudgetLine, DuiContext, SiaeIdentity, YearLine
from implantation.eligibility import implantation_kind_problem
from implantation.enums import DocumentKind


def build_dui_context(session: Session, project_id: int, cfg: ProcessConfig) -> DuiContext:
    data = ProjectData(session, project_id, cfg)
    project, establishment = data.project, data.establishment
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
    check.need(project.activity, "l'activité du projet")
    check.need(establishment.premises, "les locaux mis à disposition dans l'établissement")
    check.need(project.launch_date, "la date de démarrage de l'activité")
    check.need(project.insertion_posts_count, "le nombre de postes d'insertion")
    check.need(project.insertion_posts_etp, "le nombre de postes d'insertion (ETP)")
    check.need(project.staff_eti_etp, "l'effectif d'encadrants techniques d'insertion (ETP)")
    check.need(project.staff_cip_etp, "l'effectif de conseillers en insertion professionnelle (ETP)")
    check.need(project.accompaniment_plan, "le plan d'accompagnement socio-professionnel")
    check.need(project.insertion_targets, "les objectifs de retour à l'emploi")
    check.need(project.partners, "les partenaires du projet")
    budget_items(check, project.budget_lines)  # each entered line checked, every problem listed
    if siae is not None and project.launch_date is not None and project.insertion_posts_etp is not None:
        data.aide_au_poste(check, project.launch_date, forecast=True)  # the modulated share within its cap
    balances: list[YearBalance] = []
    if (
        siae is not None
        and project.budget_lines
        and project.launch_date
        and project.insertion_posts_etp is not None
    ):
        balances, problems = project_balances(data.book, project, siae, establishment)
        for problem in problems:  # a missing amount; a missing value is named above
            check.refuse(problem)
    check.done()
    assert parties is not None and siae is not None and project.launch_date is not None and balances
    first = balances[0]
    gap = first.balance
    balance = (
        "Budget de la première année équilibré"
        if gap == 0
        else f"{'Excédent' if gap > 0 else 'Besoin de financement'} de {fmt.fr_money(abs(gap))} la première année"
    )
    own = first.resources_total - first.aids_total
    balance += (
        f", aides sollicitées comprises ({fmt.fr_money(first.aids_total)}, non encore accordées) ; sans elles, "
        f"besoin de financement de {fmt.fr_money(first.charges_total - own)}."
        if first.charges_total > own
        else f", aides sollicitées comprises ({fmt.fr_money(first.aids_total)}, non encore accordées)."
    )
    context = DuiContext(
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
        activity=project.activity or "",
        premises=establishment.premises or "",
        start_date=fmt.fr_date(project.launch_date),
        posts_count=fmt.fr_number(project.insertion_posts_count),  # type: ignore[arg-type]
        posts_etp=fmt.fr_number(project.insertion_posts_etp),  # type: ignore[arg-type]
        staff_eti_etp=fmt.fr_number(project.staff_eti_etp),  # type: ignore[arg-type]
        staff_cip_etp=fmt.fr_number(project.staff_cip_etp),  # type: ignore[arg-type]
        accompaniment_plan=project.accompaniment_plan or "",
        insertion_targets=project.insertion_targets or "",
        partners=project.partners or "",
        charges=[BudgetLine(label=c.text, amount=fmt.fr_money(c.amount)) for c in first.charges],
        charges_total=fmt.fr_money(first.charges_total),
        resources=[BudgetLine(label=r.text, amount=fmt.fr_money(r.amount)) for r in first.resources],
        resources_total=fmt.fr_money(first.resources_total),
        budget_balance=balance,
        two_year_lines=_year_lines(balances),
        two_year_balance=balance_lines(balances),
    )
    return data.finish(context)


def _year_lines(balances: list[YearBalance]) -> list[YearLine]:
    return [
        YearLine(year=str(b.year), nature=nature, label=line.label, amount=fmt.fr_money(line.amount))
        for b in balances
        for nature, lines in (("charge", b.charges), ("ressource", b.resources))
        for line in lines
    ]
