"""Project and stage state changes, each logged in the same transaction as the change itself."""

import uuid
from dataclasses import dataclass, field
from datetime import date

from sqlmodel import Session, col, select

from implantation.calendar import launch_date_problems, stage_due_date
from implantation.config.schema import DecisionKind, ProcessConfig
from implantation.db.models import (
    CandidateSiae,
    Establishment,
    ImplantationProject,
    Person,
    Siae,
    StageRecord,
    TransitionLog,
)
from implantation.eligibility import implantation_kind_problem
from implantation.enums import Decision, ProjectStatus, Role, StageStatus
from implantation.services.errors import DomainError
from implantation.territory import expected_territory
from implantation.transitions import (
    ProjectTransition,
    StageTransition,
    TransitionError,
    apply_project,
    apply_stage,
)


@dataclass(frozen=True)
class Actor:
    label: str
    person_id: int | None = None
    role: Role | None = None

    @classmethod
    def of(cls, person: Person) -> "Actor":
        return cls(label=person.full_name, person_id=person.id, role=person.role)


SYSTEM = Actor(label="Système")


def _log(
    session: Session,
    project: ImplantationProject,
    transition: str,
    actor: Actor,
    *,
    stage: int | None = None,
    from_state: str | None = None,
    to_state: str | None = None,
    reason: str | None = None,
    accepted: bool = True,
    key: str | None = None,
) -> TransitionLog:
    row = TransitionLog(
        project_id=project.id,  # type: ignore[arg-type]
        stage=stage,
        transition=transition,
        from_state=from_state,
        to_state=to_state,
        accepted=accepted,
        actor_id=actor.person_id,
        actor_label=actor.label,
        actor_role=actor.role.value if actor.role else None,
        reason=reason,
        idempotency_key=key,
    )
    session.add(row)
    return row


def get_project(session: Session, project_id: int) -> ImplantationProject:
    project = session.get(ImplantationProject, project_id)
    if project is None:
        raise DomainError(f"Projet introuvable : identifiant {project_id}.", field="projet")
    return project


def get_stage(session: Session, project_id: int, number: int) -> StageRecord:
    record = session.exec(
        select(StageRecord).where(StageRecord.project_id == project_id, StageRecord.stage == number)
    ).one_or_none()
    if record is None:
        raise DomainError(f"Étape {number} introuvable pour le projet {project_id}.", field="etape")
    return record


def last_reopen_reason(session: Session, project_id: int, stage: int) -> str | None:
    """Why the stage was last reopened (send-back or explicit reopening), told in its opening e-mail."""
    row = session.exec(
        select(TransitionLog)
        .where(
            TransitionLog.project_id == project_id,
            TransitionLog.stage == stage,
            TransitionLog.transition == StageTransition.REOPEN.value,
        )
        .order_by(col(TransitionLog.id).desc())
    ).first()
    return row.reason if row else None


def _departement(session: Session, project: ImplantationProject) -> str:
    establishment = session.get(Establishment, project.establishment_id)
    assert establishment is not None
    return establishment.departement


def _move_stage(
    session: Session,
    project: ImplantationProject,
    record: StageRecord,
    transition: StageTransition,
    actor: Actor,
    reason: str | None = None,
    key: str | None = None,
) -> None:
    try:
        new = apply_stage(transition, record.status, reason)
    except TransitionError as exc:
        raise DomainError(f"Étape {record.stage} : {exc}", field="etape") from None
    _log(
        session,
        project,
        transition.value,
        actor,
        stage=record.stage,
        from_state=record.status.value,
        to_state=new.value,
        reason=reason,
        key=key,
    )
    record.status = new
    session.add(record)


def open_stage(
    session: Session,
    cfg: ProcessConfig,
    project: ImplantationProject,
    number: int,
    today: date,
    actor: Actor = SYSTEM,
    reason: str | None = None,
    transition: StageTransition = StageTransition.OPEN,
) -> StageRecord:
    record = get_stage(session, project.id, number)  # type: ignore[arg-type]
    _move_stage(session, project, record, transition, actor, reason)
    record.opened_on = today
    record.closed_on = None
    record.due_on = stage_due_date(today, cfg.stage(number).duree_mois.max, _departement(session, project))
    record.attempt += 1
    project.current_stage = number
    session.add_all([record, project])
    return record


def _reference(year: int, project_id: int) -> str:
    """Derived from the primary key: two projects created at the same moment never draw the same one."""
    return f"IMP-{year}-{project_id:04d}"


def create_project(
    session: Session, cfg: ProcessConfig, establishment_id: int, lead_id: int, started_on: date, actor: Actor
) -> ImplantationProject:
    """Create a project with its six stages and open stage 1 (piloted by the DISP)."""
    establishment = session.get(Establishment, establishment_id)
    if establishment is None:
        raise DomainError(
            f"Établissement introuvable : identifiant {establishment_id}.", field="etablissement"
        )
    lead = session.get(Person, lead_id)
    if lead is None:
        raise DomainError(f"Chef de projet introuvable : identifiant {lead_id}.", field="chef_de_projet")
    if lead.role != Role.DISP:
        raise DomainError(
            f"Le chef de projet doit appartenir à une DISP (rôle actuel : {lead.role.label}).",
            field="chef_de_projet",
        )
    disp = expected_territory(Role.DISP, establishment.departement, cfg.territory)
    if lead.territory != disp:
        raise DomainError(
            f"Le chef de projet doit appartenir à la DISP de l'établissement ({disp}) ; "
            f"{lead.full_name} relève de la DISP {lead.territory}.",
            field="chef_de_projet",
        )
    project = ImplantationProject(
        reference=f"tmp-{uuid.uuid4().hex}",
        establishment_id=establishment_id,
        lead_id=lead_id,
        started_on=started_on,
    )
    session.add(project)
    session.flush()
    project.reference = _reference(started_on.year, project.id)  # type: ignore[arg-type]
    status = apply_project(ProjectTransition.CREATE, None)
    project.status = status
    _log(session, project, ProjectTransition.CREATE.value, actor, to_state=status.value)
    for number in cfg.stage_numbers:
        session.add(StageRecord(project_id=project.id, stage=number))  # type: ignore[arg-type]
    session.flush()
    open_stage(session, cfg, project, 1, started_on, actor)
    session.flush()
    return project


@dataclass
class DecisionRequest:
    stage: int
    decision: Decision
    approver_id: int
    reason: str | None = None
    target_stage: int | None = None
    key: str | None = None
    # Selection of the SIAE (``selection_siae``): the sourced SIAEs, the one selected and its activity.
    candidate_siae_ids: list[int] = field(default_factory=list)
    selected_siae_id: int | None = None
    activity: str | None = None
    # Launch (``lancement``): the effective start of the activity; checklist items confirmed (etapes.toml ids).
    launch_date: date | None = None
    confirmed: set[str] = field(default_factory=set)
    # Any stage: the pilot's motive for approving without the COPILs or deliverables (config/etapes.toml).
    derogation: str | None = None


@dataclass
class DecisionOutcome:
    accepted: bool
    problems: list[str] = field(default_factory=list)
    replayed: bool = False


def approver_problems(
    session: Session, cfg: ProcessConfig, project: ImplantationProject, approver: Person | None, stage: int
) -> list[str]:
    """Is that person allowed to decide at that gate for that project's territory?"""
    if approver is None:
        return ["approbateur inconnu"]
    roles = cfg.deciding_roles(stage)
    if approver.role not in roles:
        wanted = ", ".join(sorted(r.label for r in roles))
        return [
            f"{approver.full_name} a le rôle « {approver.role.label} », or cette décision revient à : {wanted}"
        ]
    if approver.role == Role.SIAE:
        if project.siae_id is None or approver.siae_id != project.siae_id:
            return [f"{approver.full_name} ne représente pas la SIAE retenue pour ce projet"]
        return []
    departement = _departement(session, project)
    expected = expected_territory(approver.role, departement, cfg.territory)
    if expected is not None and approver.territory != expected:
        return [
            f"{approver.full_name} ({approver.role.label}, territoire {approver.territory}) n'est pas compétent "
            f"pour le département {departement} (territoire attendu : {expected})"
        ]
    return []


def decision_problems(
    session: Session, cfg: ProcessConfig, project: ImplantationProject, request: DecisionRequest
) -> list[str]:
    problems: list[str] = []
    if project.status != ProjectStatus.IN_PROGRESS:
        problems.append(f"le projet est « {project.status.label} »")
    record = get_stage(session, project.id, request.stage)  # type: ignore[arg-type]
    if record.status != StageStatus.OPEN:
        problems.append(f"l'étape {request.stage} n'est pas en cours (« {record.status.label} »)")
    approver = session.get(Person, request.approver_id)
    problems += approver_problems(session, cfg, project, approver, request.stage)
    if request.decision in (Decision.REJECT, Decision.SEND_BACK) and not (request.reason or "").strip():
        problems.append(f"un motif est obligatoire pour « {request.decision.label} »")
    if request.decision == Decision.SEND_BACK:
        target = request.target_stage
        if target is None or not 1 <= target < request.stage:
            problems.append(f"l'étape de renvoi doit être comprise entre 1 et {request.stage - 1}")
    if request.decision == Decision.APPROVE and cfg.has(request.stage, DecisionKind.SIAE_SELECTION):
        problems += _selection_problems(session, cfg, request)
    if request.decision == Decision.APPROVE and cfg.has(request.stage, DecisionKind.LAUNCH):
        problems += _launch_problems(session, cfg, project, request.launch_date)
    if request.decision == Decision.APPROVE:
        missing = [item.titre for item in cfg.checklist(request.stage) if item.id not in request.confirmed]
        if missing:
            problems.append("liste de lancement incomplète, non confirmé : " + ", ".join(missing))
        problems += _requirement_problems(session, cfg, project, approver, request)
    return problems


def _requirement_problems(
    session: Session,
    cfg: ProcessConfig,
    project: ImplantationProject,
    approver: Person | None,
    request: DecisionRequest,
) -> list[str]:
    """COPILs and deliverables of the stage, and at stage 5 the signed documents (gate_requirements)."""
    from implantation.services import gate_requirements as gr

    missing = gr.approval_requirements(session, cfg, project, request.stage)
    if not (request.derogation or "").strip():
        return missing.overridable + missing.binding
    return gr.override_problems(cfg, request.stage, approver, request.derogation, missing) + missing.binding


def _log_override(
    session: Session, cfg: ProcessConfig, project: ImplantationProject, request: DecisionRequest, actor: Actor
) -> None:
    """An accepted override gets its own log row: who, why, and what was missing."""
    from implantation.services import gate_requirements as gr

    if (request.derogation or "").strip():
        missing = gr.approval_requirements(session, cfg, project, request.stage)
        note = gr.override_note(missing, request.derogation or "")
        _log(session, project, "derogation", actor, stage=request.stage, reason=note)


def _selection_problems(session: Session, cfg: ProcessConfig, request: DecisionRequest) -> list[str]:
    problems: list[str] = []
    if not request.candidate_siae_ids:
        problems.append("aucune SIAE sourcée n'est enregistrée")
    for siae_id in request.candidate_siae_ids:
        if session.get(Siae, siae_id) is None:
            problems.append(f"SIAE sourcée introuvable : identifiant {siae_id}")
    if request.selected_siae_id is None:
        problems.append("aucune SIAE n'est sélectionnée")
    else:
        selected = session.get(Siae, request.selected_siae_id)
        if selected is None:
            problems.append(f"SIAE sélectionnée introuvable : identifiant {request.selected_siae_id}")
        else:
            if request.selected_siae_id not in request.candidate_siae_ids:
                problems.append(
                    f"la SIAE sélectionnée « {selected.name} » ne figure pas parmi les SIAE sourcées"
                )
            kind_problem = implantation_kind_problem(selected.kind, cfg.eligibility)
            if kind_problem:
                problems.append(kind_problem)
    if not (request.activity or "").strip():
        problems.append("l'activité retenue n'est pas renseignée")
    return problems


def _launch_problems(
    session: Session, cfg: ProcessConfig, project: ImplantationProject, launch_on: date | None
) -> list[str]:
    if launch_on is None:
        return ["la date de démarrage de l'activité n'est pas renseignée"]
    establishment = session.get(Establishment, project.establishment_id)
    assert establishment is not None
    zone = cfg.territory.departement[establishment.departement].zone_vacances
    try:
        return launch_date_problems(launch_on, establishment.departement, cfg.calendar, zone)
    except ValueError as exc:
        return [str(exc)]


def decide(
    session: Session, cfg: ProcessConfig, project_id: int, request: DecisionRequest, today: date
) -> DecisionOutcome:
    """Apply a gate decision, or log its refusal; replaying the same key changes nothing."""
    if request.key:
        previous = session.exec(
            select(TransitionLog).where(TransitionLog.idempotency_key == request.key)
        ).one_or_none()
        if previous is not None:
            problems = [] if previous.accepted else (previous.reason or "").split(" ; ")
            return DecisionOutcome(accepted=previous.accepted, problems=problems, replayed=True)
    project = get_project(session, project_id)
    approver = session.get(Person, request.approver_id)
    actor = Actor.of(approver) if approver else Actor(label=f"personne inconnue #{request.approver_id}")
    problems = decision_problems(session, cfg, project, request)
    if problems:
        _log(
            session,
            project,
            f"refus_{request.decision.value}",
            actor,
            stage=request.stage,
            reason=" ; ".join(problems),
            accepted=False,
            key=request.key,
        )
        return DecisionOutcome(accepted=False, problems=problems)
    record = get_stage(session, project_id, request.stage)
    if request.decision == Decision.APPROVE:
        _log_override(session, cfg, project, request, actor)
        _move_stage(session, project, record, StageTransition.APPROVE, actor, request.reason, request.key)
        record.closed_on = today
        if cfg.has(request.stage, DecisionKind.SIAE_SELECTION):
            _record_selection(session, project, request)
        following = cfg.next_stage(request.stage)
        if following is not None:
            open_stage(session, cfg, project, following, today)
        else:
            launch(session, project, request.launch_date or today, actor)
    elif request.decision == Decision.REJECT:
        _move_stage(session, project, record, StageTransition.REJECT, actor, request.reason, request.key)
    else:
        send_back(
            session,
            cfg,
            project,
            request.stage,
            request.target_stage or 1,
            actor,
            request.reason or "",
            today,
            request.key,
        )
    session.flush()
    return DecisionOutcome(accepted=True)


def _record_selection(session: Session, project: ImplantationProject, request: DecisionRequest) -> None:
    existing = set(session.exec(select(CandidateSiae.siae_id).where(CandidateSiae.project_id == project.id)))
    for siae_id in request.candidate_siae_ids:
        if siae_id not in existing:
            session.add(CandidateSiae(project_id=project.id, siae_id=siae_id))  # type: ignore[arg-type]
    project.siae_id = request.selected_siae_id
    project.activity = (request.activity or "").strip()
    session.add(project)


def send_back(
    session: Session,
    cfg: ProcessConfig,
    project: ImplantationProject,
    from_stage: int,
    to_stage: int,
    actor: Actor,
    reason: str,
    today: date,
    key: str | None = None,
) -> None:
    """Return to an earlier stage: it reopens, and every stage after it waits again."""
    for number in range(from_stage, to_stage, -1):
        record = get_stage(session, project.id, number)  # type: ignore[arg-type]
        if record.status in (StageStatus.OPEN, StageStatus.VALIDATED):
            _move_stage(
                session,
                project,
                record,
                StageTransition.SEND_BACK,
                actor,
                reason,
                key if number == from_stage else None,
            )
            record.closed_on = None
    open_stage(session, cfg, project, to_stage, today, actor, reason, StageTransition.REOPEN)


def launch(session: Session, project: ImplantationProject, launch_on: date, actor: Actor) -> None:
    try:
        status = apply_project(ProjectTransition.LAUNCH, project.status)
    except TransitionError as exc:
        raise DomainError(str(exc), field="projet") from None
    _log(
        session,
        project,
        ProjectTransition.LAUNCH.value,
        actor,
        from_state=project.status.value,
        to_state=status.value,
    )
    project.status = status
    project.launch_date = launch_on
    session.add(project)


def abandon(session: Session, project: ImplantationProject, reason: str, actor: Actor) -> None:
    try:
        status = apply_project(ProjectTransition.ABANDON, project.status, reason)
    except TransitionError as exc:
        raise DomainError(str(exc), field="motif") from None
    for record in session.exec(select(StageRecord).where(StageRecord.project_id == project.id)):
        if record.status in (StageStatus.PENDING, StageStatus.OPEN):
            _move_stage(session, project, record, StageTransition.CANCEL, actor, reason)
    _log(
        session,
        project,
        ProjectTransition.ABANDON.value,
        actor,
        from_state=project.status.value,
        to_state=status.value,
        reason=reason,
    )
    project.status = status
    session.add(project)
