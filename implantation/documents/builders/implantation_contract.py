"""Contrat d'implantation between the SIAE and the chef d'établissement (R412-78, R412-79)."""

from sqlmodel import Session

from implantation import contract_rules as rules
from implantation.config.schema import ProcessConfig
from implantation.documents import formatting as fmt
from implantation.documents.builders.common import SHORT_LABEL, Checker, ProjectData
from implantation.documents.contexts import ImplantationContext
from implantation.enums import DocumentKind


def build_implantation_context(session: Session, project_id: int, cfg: ProcessConfig) -> ImplantationContext:
    data = ProjectData(session, project_id, cfg)
    p, est = data.project, data.establishment
    spec = cfg.documents.document[DocumentKind.IMPLANTATION_CONTRACT]
    check = Checker(SHORT_LABEL[DocumentKind.IMPLANTATION_CONTRACT])
    parties = data.parties(check)
    data.check_party_names(check, DocumentKind.IMPLANTATION_CONTRACT)
    check.need(p.activity, "la nature des activités")
    check.need(p.implantation_start, "la date de début du contrat d'implantation")
    check.need(p.implantation_end, "la date de fin du contrat d'implantation")
    check.need(est.premises, "les locaux mis à disposition dans l'établissement")
    check.need(est.security_rules, "les règles de sécurité de l'établissement")
    check.need(p.accompaniment_plan, "l'accompagnement individuel des opérateurs")
    check.need(p.work_schedule, "les horaires de travail des opérateurs")
    max_years = spec.duree_max_annees
    check.need(max_years, "la durée maximale du contrat d'implantation dans documents.toml")
    start, end = p.implantation_start, p.implantation_end
    if start and end and max_years:
        check.refuse(
            rules.duration_problem(
                start, end, max_years, "durée du contrat d'implantation", spec.base_legale[0]
            )
        )
    pay = startup = None
    if start is not None:
        pay = data.rule(check, lambda: data.pay_info(start))
        startup = data.rule(
            check,
            lambda: rules.amount_on(
                cfg.money.aide_au_demarrage_atigip,
                start,
                "aide au démarrage ATIGIP",
                "aide_au_demarrage_atigip",
            ),
        )
    reimbursement = data.reimbursement(check)
    check.done()
    assert parties is not None and start and end and max_years and pay and startup and reimbursement
    clauses = cfg.contracts.contrat_implantation
    renewal = (
        clauses.renouvellement_tacite if p.implantation_tacit_renewal else clauses.renouvellement_expres
    ).format(max_annees=max_years, preavis_mois=clauses.preavis_denonciation_mois)
    return ImplantationContext(
        **data.common(DocumentKind.IMPLANTATION_CONTRACT, parties),
        establishment=data.establishment_party(),
        siae=data.siae_party(),
        activity=p.activity or "",
        start_date=fmt.fr_date(start),
        end_date=fmt.fr_date(end),
        duration=rules.duration_text(start, end),
        max_years=fmt.fr_number(max_years),
        renewal_clause=renewal,
        renewal_source=clauses.source_renouvellement,
        invoicing=reimbursement.texte,
        invoicing_source=reimbursement.source,
        premises=est.premises or "",
        security_rules=est.security_rules or "",
        accompaniment_plan=p.accompaniment_plan or "",
        work_schedule=p.work_schedule or "",
        pay=pay,
        startup_aid=fmt.fr_money(startup.valeur),
        startup_aid_words=fmt.money_words(startup.valeur),
        startup_aid_source=startup.citation,
    )
