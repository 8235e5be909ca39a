"""Project and stage state changes, each logged in the same transaction as the change itself."""

import uuid
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, select, update

from implantation.calendar import stage_due_date
from implantation.config.schema import ProcessConfig
from implantation.db.models import (
    Establishment,
    ImplantationProject,
    Person,
    StageRecord,
    TransitionLog,
)
from implantation.enums import Role, StageStatus
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


def log_transition(
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


def departement_of(session: Session, project: ImplantationProject) -> str:
    establishment = session.get(Establishment, project.establishment_id)
    assert establishment is not None
    return establishment.departement


def move_stage(
    session: Session,
    project: ImplantationProject,
    record: StageRecord,
    transition: StageTransition,
    actor: Actor,
    reason: str | None = None,
    key: str | None = None,
) -> TransitionLog:
    try:
        new = apply_stage(transition, record.status, reason)
    except TransitionError as exc:
        raise DomainError(f"Étape {record.stage} : {exc}", field="etape") from None
    row = log_transition(
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
    return row


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
    move_stage(session, project, record, transition, actor, reason)
    record.opened_on = today
    record.closed_on = None
    record.due_on = stage_due_date(today, cfg.stage(number).duree_mois.max, departement_of(session, project))
    record.attempt += 1
    record.suspended_on = None
    record.suspended_days = 0
    project.current_stage = number
    session.add_all([record, project])
    return record


def _reference(year: int, project_id: int) -> str:
    """Derived from the primary key: two projects created at the same moment never draw the same one."""
    return f"IMP-{year}-{project_id:04d}"


def create_project(
    session: Session,
    cfg: ProcessConfig,
    establishment_id: int,
    lead_id: int,
    started_on: date,
    actor: Actor,
    key: str | None = None,
) -> ImplantationProject:
    """Create a project with its six stages and open stage 1 (piloted by the DISP).

    With ``key``, the creation is logged under it and a second call with the same key returns the project
    already created (a rerun after a crash between the commit and the caller's record of it).
    """
    if key:
        previous = logged_decision(session, key)
        if previous is not None:
            return get_project(session, previous.project_id)
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
    log_transition(session, project, ProjectTransition.CREATE.value, actor, to_state=status.value, key=key)
    for number in cfg.stage_numbers:
        session.add(StageRecord(project_id=project.id, stage=number))  # type: ignore[arg-type]
    session.flush()
    open_stage(session, cfg, project, 1, started_on, actor)
    session.flush()
    return project


def logged_decision(session: Session, key: str) -> TransitionLog | None:
    return session.exec(select(TransitionLog).where(TransitionLog.idempotency_key == key)).one_or_none()


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
) -> tuple[TransitionLog, StageRecord]:
    """Return to an earlier stage: it reopens, and every stage after it waits again.

    Returns the log row of the stage sent back (the one carrying ``key``) and the reopened stage.
    """
    first: TransitionLog | None = None
    for number in range(from_stage, to_stage, -1):
        record = get_stage(session, project.id, number)  # type: ignore[arg-type]
        if record.status in (StageStatus.OPEN, StageStatus.VALIDATED):
            row = move_stage(
                session,
                project,
                record,
                StageTransition.SEND_BACK,
                actor,
                reason,
                key if number == from_stage else None,
            )
            first = first or row
            record.closed_on = None
    reopened = open_stage(session, cfg, project, to_stage, today, actor, reason, StageTransition.REOPEN)
    if first is None:
        raise DomainError(f"Étape {from_stage} : rien à renvoyer.", field="etape")
    return first, reopened


def launch(session: Session, project: ImplantationProject, launch_on: date, actor: Actor) -> None:
    try:
        status = apply_project(ProjectTransition.LAUNCH, project.status)
    except TransitionError as exc:
        raise DomainError(str(exc), field="projet") from None
    log_transition(
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


def lock_stages(session: Session, project_id: int, stage: int | None = None) -> None:
    """Take the project's stage rows (or one of them) for this transaction before reading what depends on them.

    An UPDATE (not a SELECT … FOR UPDATE, which SQLite ignores) locks the rows on PostgreSQL and takes the
    database write lock on SQLite, where Python's driver runs reads outside any transaction until the
    first write: a decision and an abandonment of the same project wait for each other, and the second
    reads what the first committed. Everything loaded before is expired, so that no stale status is
    checked.
    """
    session.flush()
    query = update(StageRecord).where(col(StageRecord.project_id) == project_id)
    if stage is not None:
        query = query.where(col(StageRecord.stage) == stage)
    session.execute(
        query.values(version=col(StageRecord.version) + 1).execution_options(synchronize_session=False)
    )
    session.expire_all()


def abandon(session: Session, project: ImplantationProject, reason: str, actor: Actor) -> None:
    """Abandon the project; its stage rows are locked first, so that a decision being taken at one of its
    gates either commits before (and its stage is left as it decided) or sees the project abandoned."""
    assert project.id is not None
    lock_stages(session, project.id)
    session.refresh(project)
    try:
        status = apply_project(ProjectTransition.ABANDON, project.status, reason)
    except TransitionError as exc:
        raise DomainError(str(exc), field="motif") from None
    for record in session.exec(select(StageRecord).where(StageRecord.project_id == project.id)):
        if record.status in (StageStatus.PENDING, StageStatus.OPEN, StageStatus.SUSPENDED):
            move_stage(session, project, record, StageTransition.CANCEL, actor, reason)
    log_transition(
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


RUN_CANCELLED = "annuler_execution"


def log_run_cancelled(
    session: Session, project_id: int, stage: int | None, run_label: str, actor: Actor
) -> TransitionLog:
    """An abandoned project's waiting stage run was cancelled on the orchestrator: who did it, and which."""
    project = get_project(session, project_id)
    return log_transition(
        session,
        project,
        RUN_CANCELLED,
        actor,
        stage=stage,
        reason=f"Exécution en attente « {run_label} » annulée : projet abandonné",
    )
