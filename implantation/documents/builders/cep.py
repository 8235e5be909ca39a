"""Contrat d'emploi pénitentiaire (CEP) of one opérateur, with the fifteen R412-25 mentions and his own values.

An SIAE CEP is open-ended and ends with detention (L412-16): its trial period is the one-month cap, never
« days per week of contract ». Hours, breaks, rest days and public holidays come from the opérateur's own
schedule, which must give exactly his weekly hours; contributions are computed from his pay at the rates
of montants.toml in force on his start date.
"""

from datetime import timedelta

from sqlmodel import Session

from implantation import contract_rules as rules
from implantation import work_schedule as ws
from implantation.config.schema import ContributionKind, ProcessConfig
from implantation.documents import formatting as fmt
from implantation.documents.builders.common import exact, open_operateur_document
from implantation.documents.contexts import (
    CepContext,
    ContributionRow,
    HolidayLine,
    ScheduleInfo,
    Termination,
    WorkerIdentity,
)
from implantation.enums import DocumentKind

PART_LABEL = {ContributionKind.EMPLOYEE: "salariale", ContributionKind.EMPLOYER: "patronale"}


def _schedule_info(schedule: ws.WorkSchedule, weekly: str) -> ScheduleInfo:
    return ScheduleInfo(
        days=ws.days_text(schedule.jours),
        start=ws.clock_text(schedule.debut),
        end=ws.clock_text(schedule.fin),
        break_minutes=fmt.fr_number(schedule.pause_minutes),
        daily_hours=ws.hours_text(schedule.daily_hours),
        weekly_hours=weekly,
        monthly_hours=ws.hours_text(ws.monthly_hours(schedule.weekly_hours)),
        rest_days=ws.days_text(schedule.rest_days) if schedule.rest_days else "aucun",
    )


def build_cep_context(session: Session, project_id: int, operateur_id: str, cfg: ProcessConfig) -> CepContext:
    start_doc = open_operateur_document(session, project_id, operateur_id, cfg, DocumentKind.CEP)
    data, check, parties, od = start_doc.data, start_doc.check, start_doc.parties, start_doc.od
    p, est, op = data.project, data.establishment, od.op
    check.need(op.missions, "la description du poste et des missions")
    check.need(op.rome_code, "le code ROME du poste")
    check.need(op.particular_risks, "les risques particuliers du poste (ou la mention qu'il n'y en a pas)")
    check.need(p.accompaniment_plan, "l'accompagnement socio-professionnel assuré par la SIAE")
    schedule = None
    if check.need(op.schedule, "l'emploi du temps de l'opérateur (jours, heures de début et de fin, pause)"):
        schedule, problem = ws.parse_schedule(op.schedule)
        check.refuse(problem)
        if schedule is not None and op.weekly_hours is not None:
            check.refuse(ws.consistency_problem(schedule, exact(op.weekly_hours)))
    trial_rules = cfg.contracts.periode_essai
    bound = trial_days = monthly = None
    if op.contract_start is not None:
        start = op.contract_start
        bound = rules.trial_period_bound(start, None, trial_rules)  # open-ended (L412-16)
        trial_days = op.trial_days if op.trial_days is not None else bound.max_days
        check.refuse(rules.trial_days_problem(trial_days, bound))
        if od.hourly_rate is not None and op.weekly_hours is not None:
            rate, hours = od.hourly_rate, exact(op.weekly_hours)
            monthly = data.rule(check, lambda: rules.monthly_pay(cfg.money, start, rate, hours))
    reimbursement = data.reimbursement(check)
    check.done()
    assert parties is not None and data.siae is not None and od.identity is not None and schedule is not None
    assert op.contract_start and bound and trial_days is not None and od.hourly_rate is not None
    assert monthly is not None and reimbursement is not None and op.weekly_hours is not None
    start = op.contract_start
    clauses = cfg.contracts.cep
    parties = parties.with_worker(od.worker_name())
    year_end = start + timedelta(days=364)
    employee = monthly.total(ContributionKind.EMPLOYEE)
    employer = monthly.total(ContributionKind.EMPLOYER)
    return CepContext(
        **data.common(DocumentKind.CEP, parties),
        operateur_id=op.id,
        siae=data.siae_party(),
        establishment=data.establishment_ref(),
        worker=WorkerIdentity(
            first_name=od.identity.first_name,
            last_name=od.identity.last_name,
            ecrou_number=od.identity.ecrou_number,
            birth_date=fmt.fr_date(od.identity.birth_date),
        ),
        start_date=fmt.fr_date(start),
        trial_days=fmt.fr_number(trial_days),
        trial_end=fmt.fr_date(rules.trial_end(start, trial_days)) if trial_days else "sans objet",
        trial_rule=bound.rule,
        trial_clause=clauses.periode_essai.texte,
        trial_renewal=trial_rules.clause_renouvellement,
        notice_hours=fmt.fr_number(trial_rules.delai_prevenance_heures),
        post_title=op.post_title or "",
        missions=op.missions or "",
        rome_code=op.rome_code or "",
        particular_risks=op.particular_risks or "",
        schedule=_schedule_info(schedule, ws.hours_text(exact(op.weekly_hours))),
        rest_clause=clauses.repos_hebdomadaire.texte,
        holidays=[
            HolidayLine(date=f"{ws.DAYS[h.day.weekday()]} {fmt.fr_date(h.day)}", name=h.name)
            for h in ws.worked_holidays(schedule, start, est.departement)
        ],
        holidays_period=f"du {fmt.fr_date(start)} au {fmt.fr_date(year_end)}",
        holiday_clause=clauses.jours_feries.texte,
        on_call_clause=clauses.astreintes.texte,
        hourly_rate=fmt.fr_money(od.hourly_rate),
        hourly_rate_words=fmt.money_words(od.hourly_rate),
        pay=data.pay_info(start),
        monthly_gross=fmt.fr_money(monthly.gross),
        contributions=[
            ContributionRow(
                label=line.label,
                part=PART_LABEL[line.part],
                rate=fmt.fr_percent(line.rate.valeur),
                amount=fmt.fr_money(line.amount),
                source=line.rate.citation,
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
        suspension_cases=[case.cas for case in clauses.suspension],
        terminations=[Termination(party=t.partie, terms=t.modalite, source=t.source) for t in clauses.fin],
        accompaniment_plan=p.accompaniment_plan or "",
    )
