"""Contrat d'implantation between the SIAE and the chef d'établissement (R412-78, R412-79).

Beyond R412-79's mentions it states the directeur interrégional's prior authorisation (D412-22), the
workshop's opening hours (every CEP is checked against them), the planned number of opérateurs, the
suspension for security, the termination for a breach (R412-82) or for public interest, and insurance.
The pay floor is a binding figure: the one in force on the contract's start, revalued with every SMIC.
"""

from sqlmodel import Session

from implantation import contract_rules as rules
from implantation import work_schedule as ws
from implantation.config.schema import ProcessConfig
from implantation.documents import formatting as fmt
from implantation.documents.builders.common import SHORT_LABEL, Checker, ProjectData
from implantation.documents.contexts import ImplantationContext
from implantation.enums import DocumentKind


def build_implantation_context(session: Session, project_id: int, cfg: ProcessConfig) -> ImplantationContext:
    data = ProjectData(session, project_id, cfg)
    project, establishment = data.project, data.establishment
    spec = cfg.documents.document[DocumentKind.IMPLANTATION_CONTRACT]
    check = Checker(SHORT_LABEL[DocumentKind.IMPLANTATION_CONTRACT])
    parties = data.parties(check)
    data.check_party_names(check, DocumentKind.IMPLANTATION_CONTRACT)
    check.need(project.activity, "la nature des activités")
    check.need(project.implantation_start, "la date de début du contrat d'implantation")
    check.need(project.implantation_end, "la date de fin du contrat d'implantation")
    check.need(establishment.premises, "les locaux mis à disposition dans l'établissement")
    check.need(establishment.security_rules, "les règles de sécurité de l'établissement")
    check.need(project.accompaniment_plan, "l'accompagnement individuel des opérateurs")
    check.need(project.insertion_posts_count, "le nombre de postes d'insertion")
    check.need(project.insertion_posts_etp, "le nombre de postes d'insertion (ETP)")
    workshop = None
    try:
        workshop = ws.workshop_of(project.workshop_days, project.workshop_start, project.workshop_end)
    except ValueError as exc:
        check.refuse(f"horaires de l'atelier invalides : {exc}")
    check.need(workshop, "les horaires d'ouverture de l'atelier")
    max_years = spec.duree_max_annees
    check.need(max_years, "la durée maximale du contrat d'implantation dans documents.toml")
    start, end = project.implantation_start, project.implantation_end
    if start and end and max_years:
        check.refuse(
            rules.duration_problem(
                start, end, max_years, "durée du contrat d'implantation", spec.base_legale[0]
            )
        )
    pay = startup = None
    if start is not None:
        pay = data.rule(check, lambda: data.pay_info(start))
        startup = data.rule(check, lambda: data.book.figure("aide_au_demarrage_atigip", start))
    reimbursement = data.reimbursement(check)
    check.done()
    assert parties is not None and start and end and max_years and pay and startup and reimbursement
    assert (
        workshop is not None
        and project.insertion_posts_count is not None
        and project.insertion_posts_etp is not None
    )
    clauses = cfg.contracts.contrat_implantation
    renewal = (
        clauses.renouvellement_tacite if project.implantation_tacit_renewal else clauses.renouvellement_expres
    ).format(max_annees=max_years, preavis_mois=clauses.preavis_denonciation_mois)
    authorisation = clauses.autorisation_attendue
    if project.work_authorisation:
        dated = (
            f" du {fmt.fr_date(project.work_authorisation_date)}" if project.work_authorisation_date else ""
        )
        authorisation = clauses.autorisation.format(reference=project.work_authorisation + dated)
    context = ImplantationContext(
        **data.common(DocumentKind.IMPLANTATION_CONTRACT, parties),
        establishment=data.establishment_party(),
        siae=data.siae_party(),
        activity=project.activity or "",
        start_date=fmt.fr_date(start),
        end_date=fmt.fr_date(end),
        duration=rules.duration_text(start, end),
        max_years=fmt.fr_number(max_years),
        renewal_clause=renewal,
        renewal_source=clauses.source_renouvellement,
        invoicing=reimbursement.texte,
        invoicing_source=reimbursement.source,
        premises=establishment.premises or "",
        security_rules=establishment.security_rules or "",
        accompaniment_plan=project.accompaniment_plan or "",
        work_schedule=project.work_schedule or "",
        workshop_hours=workshop.text,
        operators=clauses.operateurs.format(
            postes=fmt.fr_number(project.insertion_posts_count),
            etp=fmt.fr_number(project.insertion_posts_etp),
        ).rstrip("."),
        operators_source=clauses.source_operateurs,
        authorisation=authorisation.rstrip("."),
        authorisation_source=clauses.source_autorisation,
        security_suspension=clauses.suspension_securite,
        security_suspension_source=clauses.source_suspension_securite,
        termination=clauses.resiliation,
        termination_source=clauses.source_resiliation,
        public_interest=clauses.interet_general.format(preavis_mois=clauses.preavis_denonciation_mois),
        public_interest_source=clauses.source_interet_general,
        insurance=clauses.assurance,
        insurance_source=clauses.source_assurance,
        pay=pay,
        startup_aid=fmt.fr_money(startup.value),
        startup_aid_words=fmt.money_words(startup.value),
        startup_aid_source=startup.note,
    )
    return data.finish(context)
