"""Contrat d'emploi pénitentiaire (CEP) of one opérateur, with the fourteen R412-25 mentions and his own values.

An SIAE CEP is open-ended: its trial period is the one-month cap, never « days per week of contract ».
Hours, breaks, rest days and public holidays come from the opérateur's own schedule, which must give
exactly his weekly hours, stay within the Code's bounds (R412-50, R412-51) and within the workshop's opening
hours. Pay is a binding figure: the floor in force on the start date, revalued by law with every SMIC.
Contributions are those the CSS sets on a CEP's pay, each with its article, at the rates in force.
"""

from datetime import timedelta

from sqlmodel import Session

from implantation import contract_rules as rules
from implantation import work_schedule as ws
from implantation.config.schema import ContributionBase, ContributionKind, ProcessConfig
from implantation.documents import formatting as fmt
from implantation.documents.builders.common import exact, open_operateur_document
from implantation.documents.contexts import (
    CepContext,
    Clause,
    ContributionRow,
    HolidayLine,
    ScheduleInfo,
    Termination,
    WorkerIdentity,
)
from implantation.enums import DocumentKind, LegalStatus

PART_LABEL = {ContributionKind.EMPLOYEE: "salariale", ContributionKind.EMPLOYER: "patronale"}
BASE_LABEL = {
    ContributionBase.GROSS: "rémunération brute",
    ContributionBase.OLD_AGE: "rémunération brute, au moins l'assiette minimale",
    ContributionBase.OLD_AGE_CAPPED: "rémunération brute, au moins l'assiette minimale, au plus le plafond",
}


def _schedule_info(schedule: ws.WorkSchedule, weekly: str, cfg: ProcessConfig) -> ScheduleInfo:
    pause = cfg.contracts.cep.pause
    return ScheduleInfo(
        days=ws.days_text(schedule.jours),
        start=ws.clock_text(schedule.debut),
        end=ws.clock_text(schedule.fin),
        break_clause=(
            pause.avec_pause.format(minutes=fmt.fr_number(schedule.pause_minutes))
            if schedule.pause_minutes
            else pause.sans_pause
        ),
        daily_hours=ws.hours_text(schedule.daily_hours),
        weekly_hours=weekly,
        monthly_hours=ws.hours_text(ws.monthly_hours(schedule.weekly_hours)),
        rest_days=ws.days_text(schedule.rest_days) if schedule.rest_days else "aucun",
    )


def build_cep_context(session: Session, project_id: int, operateur_id: str, cfg: ProcessConfig) -> CepContext:
    start_doc = open_operateur_document(session, project_id, operateur_id, cfg, DocumentKind.CEP)
    data, check, parties, operateur = start_doc.data, start_doc.check, start_doc.parties, start_doc.operateur
    project, establishment, op = data.project, data.establishment, operateur.op
    bounds = cfg.contracts.duree_travail
    check.need(op.missions, "la description du poste et des missions")
    check.need(op.rome_code, "le code ROME du poste")
    check.need(op.particular_risks, "les risques particuliers du poste (ou la mention qu'il n'y en a pas)")
    check.need(project.accompaniment_plan, "l'accompagnement socio-professionnel assuré par la SIAE")
    check.need(op.classified_on, "la date de classement au travail de l'opérateur")
    check.need(op.assigned_on, "la date d'affectation de l'opérateur sur le poste")
    if op.classified_on and op.assigned_on and op.classified_on > op.assigned_on:
        check.refuse("le classement au travail doit précéder l'affectation sur le poste")
    if op.assigned_on and op.contract_start and op.assigned_on > op.contract_start:
        check.refuse(
            "l'affectation sur le poste doit précéder le début du contrat (code pénitentiaire, L412-10)"
        )
    workshop = None
    try:
        workshop = ws.workshop_of(project.workshop_days, project.workshop_start, project.workshop_end)
    except ValueError as exc:
        check.refuse(f"horaires de l'atelier invalides : {exc}")
    check.need(workshop, "les horaires d'ouverture de l'atelier")
    schedule = None
    if check.need(op.schedule, "l'emploi du temps de l'opérateur (jours, heures de début et de fin, pause)"):
        schedule, problem = ws.parse_schedule(op.schedule)
        check.refuse(problem)
        if schedule is not None and op.weekly_hours is not None:
            hours = exact(op.weekly_hours)
            check.refuse(ws.consistency_problem(schedule, hours))
            check.refuse(
                ws.bounds_problem(
                    schedule,
                    hours,
                    bounds.minimum_hebdomadaire,
                    bounds.maximum_quotidien,
                    bounds.maximum_hebdomadaire,
                    bounds.source,
                )
            )
        if schedule is not None and workshop is not None:
            check.refuse(ws.within_workshop_problem(schedule, workshop))
    trial_rules = cfg.contracts.periode_essai
    bound = trial_days = monthly = None
    if op.contract_start is not None:
        start = op.contract_start
        bound = rules.trial_period_bound(start, None, trial_rules)  # open-ended (L412-12)
        trial_days = op.trial_days if op.trial_days is not None else bound.max_days
        check.refuse(rules.trial_days_problem(trial_days, bound))
        if operateur.hourly_rate is not None and op.weekly_hours is not None:
            rate, weekly = operateur.hourly_rate, exact(op.weekly_hours)
            monthly = data.rule(check, lambda: rules.monthly_pay(data.book, data.place, start, rate, weekly))
    reimbursement = data.reimbursement(check)
    check.done()
    assert (
        parties is not None
        and data.siae is not None
        and operateur.identity is not None
        and schedule is not None
    )
    assert op.contract_start and bound and trial_days is not None and operateur.hourly_rate is not None
    assert monthly is not None and reimbursement is not None and op.weekly_hours is not None
    assert workshop is not None and op.classified_on is not None and op.assigned_on is not None
    start = op.contract_start
    clauses = cfg.contracts.cep
    parties = parties.with_worker(operateur.worker_name())
    year_end = start + timedelta(days=364)
    employee = monthly.total(ContributionKind.EMPLOYEE)
    employer = monthly.total(ContributionKind.EMPLOYER)
    trial_sentence = (
        f"Le contrat comporte une période d'essai de {fmt.fr_number(trial_days)} jours calendaires, qui "
        f"s'achève le {fmt.fr_date(rules.trial_end(start, trial_days))}."
        if trial_days
        else "Le contrat ne comporte pas de période d'essai."
    )
    joint = []
    if op.joint_agreement:
        motif = (
            "prévenu"
            if op.legal_status == LegalStatus.REMAND
            else f"condamné à une peine de {op.quantum_months} mois"
        )
        joint.append(
            f"{clauses.accord_conjoint.texte.format(motif=motif).rstrip('.')} ({clauses.accord_conjoint.source})."
        )
    context = CepContext(
        **data.common(DocumentKind.CEP, parties),
        operateur_id=op.id,
        siae=data.siae_party(),
        establishment=data.establishment_ref(),
        worker=WorkerIdentity(
            first_name=operateur.identity.first_name,
            last_name=operateur.identity.last_name,
            ecrou_number=operateur.identity.ecrou_number,
            birth_date=fmt.fr_date(operateur.identity.birth_date),
        ),
        start_date=fmt.fr_date(start),
        duration_clause=clauses.duree.texte,
        classification=(
            clauses.classement.texte.format(
                classement=fmt.fr_date(op.classified_on), affectation=fmt.fr_date(op.assigned_on)
            )
            + f" ({clauses.classement.source})."
        ),
        joint_agreements=joint,
        trial_sentence=trial_sentence,
        trial_rule=bound.rule,
        trial_clause=clauses.periode_essai.texte,
        trial_renewal=trial_rules.clause_renouvellement,
        notice_hours=fmt.fr_number(trial_rules.delai_prevenance_heures),
        post_title=op.post_title or "",
        missions=op.missions or "",
        rome_code=op.rome_code or "",
        particular_risks=op.particular_risks or "",
        schedule=_schedule_info(schedule, ws.hours_text(exact(op.weekly_hours)), cfg),
        workshop_hours=workshop.text,
        hours_bounds=(
            f"La durée du travail respecte les bornes du code pénitentiaire : au moins "
            f"{bounds.minimum_hebdomadaire} heures par semaine à temps partiel, au plus "
            f"{bounds.maximum_quotidien} heures de travail effectif par jour et {bounds.maximum_hebdomadaire} "
            f"heures par semaine ; le temps complet est de {bounds.temps_complet_hebdomadaire} heures par "
            f"semaine ({bounds.source})."
        ),
        rest_clause=clauses.repos_hebdomadaire.texte,
        holidays=[
            HolidayLine(date=f"{ws.DAYS[h.day.weekday()]} {fmt.fr_date(h.day)}", name=h.name)
            for h in ws.worked_holidays(schedule, start, establishment.departement)
        ],
        holidays_period=f"du {fmt.fr_date(start)} au {fmt.fr_date(year_end)}",
        holiday_clause=clauses.jours_feries.texte,
        on_call_clause=clauses.astreintes.texte,
        hourly_rate=fmt.fr_money(operateur.hourly_rate),
        hourly_rate_words=fmt.money_words(operateur.hourly_rate),
        pay=data.pay_info(start),
        monthly_gross=fmt.fr_money(monthly.gross),
        old_age_floor=fmt.fr_money(monthly.old_age_floor),
        contributions=[
            ContributionRow(
                label=line.label,
                part=PART_LABEL[line.part],
                rate=fmt.fr_percent(line.rate.valeur),
                base=fmt.fr_money(line.base),
                amount=fmt.fr_money(line.amount),
                source=f"{line.article} ; taux : {line.rate.citation}",
            )
            for line in monthly.lines
        ],
        employee_contributions=fmt.fr_money(employee),
        employer_contributions=fmt.fr_money(employer),
        contributions_total=fmt.fr_money(employee + employer),
        contributions_total_words=fmt.money_words(employee + employer),
        monthly_net=fmt.fr_money(monthly.net),
        contributions_clause=clauses.cotisations.texte,
        contributions_source=clauses.cotisations.source,
        reimbursement=reimbursement.texte,
        suspension_cases=[Clause(text=case.cas, source=case.source) for case in clauses.suspension],
        terminations=[Termination(party=t.partie, terms=t.modalite, source=t.source) for t in clauses.fin],
        accompaniment_plan=project.accompaniment_plan or "",
    )
    return data.finish(context)
