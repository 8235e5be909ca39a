"""Contrat d'emploi pénitentiaire (CEP) of one opérateur, with the R412-25 mentions."""

from sqlmodel import Session

from implantation import contract_rules as rules
from implantation.config.schema import ProcessConfig
from implantation.documents import formatting as fmt
from implantation.documents.builders.common import SHORT_LABEL, Checker, OperateurData, ProjectData
from implantation.documents.contexts import CepContext, WorkerIdentity
from implantation.documents.parties import Parties
from implantation.enums import DocumentKind


def build_cep_context(session: Session, project_id: int, operateur_id: str, cfg: ProcessConfig) -> CepContext:
    data = ProjectData(session, project_id, cfg)
    p = data.project
    check = Checker(f"{SHORT_LABEL[DocumentKind.CEP]} {operateur_id}")
    parties = data.parties(check)
    data.check_party_names(check, DocumentKind.CEP)
    od = OperateurData(session, data, operateur_id, check)
    op = od.op
    check.need(op.missions, "la description du poste et des missions")
    check.need(op.rome_code, "le code ROME du poste")
    check.need(op.particular_risks, "les risques particuliers du poste (ou la mention qu'il n'y en a pas)")
    check.need(p.work_schedule, "les horaires de travail")
    check.need(p.accompaniment_plan, "l'accompagnement socio-professionnel assuré par la SIAE")
    trial_rules = cfg.contracts.periode_essai
    bound = trial_days = None
    if op.contract_start is not None:
        bound = rules.trial_period_bound(op.contract_start, op.planned_duration_months, trial_rules)
        trial_days = op.trial_days if op.trial_days is not None else bound.max_days
        check.refuse(rules.trial_days_problem(trial_days, bound))
    check.done()
    assert parties is not None and data.siae is not None and od.identity is not None
    assert op.contract_start and bound and trial_days is not None and od.hourly_rate is not None
    parties = Parties(
        parties.departement, parties.disp_name, parties.siae, parties.establishment, od.worker_name()
    )
    reimbursement = cfg.contracts.remboursement_remuneration.get(data.siae.kind)
    contributions = (
        "Les cotisations sociales afférentes à la rémunération sont calculées aux taux applicables au travail des "
        "personnes détenues ; l'établissement les précompte, les verse à l'URSSAF et en porte le montant sur chaque "
        "bulletin de paie."
    )
    if reimbursement is not None:
        contributions += " " + reimbursement.texte
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
        start_date=fmt.fr_date(op.contract_start),
        trial_days=fmt.fr_number(trial_days),
        trial_end=fmt.fr_date(rules.trial_end(op.contract_start, trial_days)) if trial_days else "sans objet",
        trial_rule=bound.rule,
        trial_renewal=trial_rules.clause_renouvellement,
        notice_hours=fmt.fr_number(trial_rules.delai_prevenance_heures),
        post_title=op.post_title or "",
        missions=op.missions or "",
        rome_code=op.rome_code or "",
        particular_risks=op.particular_risks or "",
        weekly_hours=fmt.fr_number(op.weekly_hours),  # type: ignore[arg-type]
        work_schedule=p.work_schedule or "",
        hourly_rate=fmt.fr_money(od.hourly_rate),
        hourly_rate_words=fmt.money_words(od.hourly_rate),
        pay=data.pay_info(op.contract_start),
        contributions=contributions,
        accompaniment_plan=p.accompaniment_plan or "",
    )
