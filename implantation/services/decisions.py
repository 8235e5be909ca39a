"""Gate decisions: who may decide, what each decision requires, and applying one.

Kept apart from :mod:`implantation.services.workflow` (the state changes themselves) so that the rules of a
gate read in one place: the approver's role and territory, the decision's own checks (keyed on the
decision ids of ``etapes.toml``), what must be recorded first, the one-time code, and the stage lock that
makes a check and its write one step.
"""

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlmodel import Session, select

from implantation.calendar import launch_date_problems
from implantation.config.schema import DecisionKind, ProcessConfig
from implantation.db.models import (
    CandidateSiae,
    Establishment,
    ImplantationProject,
    Person,
    Siae,
    TransitionLog,
    utcnow,
)
from implantation.dossier import Dossier
from implantation.eligibility import implantation_kind_problem
from implantation.enums import Decision, ProjectStatus, Role, StageStatus
from implantation.services import clock, gate_codes, gate_facts
from implantation.services.workflow import (
    SYSTEM,
    Actor,
    departement_of,
    get_project,
    get_stage,
    launch,
    lock_stages,
    log_transition,
    logged_decision,
    move_stage,
    open_stage,
    send_back,
)
from implantation.territory import expected_territory
from implantation.transitions import StageTransition


@dataclass
class DecisionRequest:
    stage: int
    decision: Decision
    approver_id: int
    reason: str | None = None
    target_stage: int | None = None
    key: str | None = None
    code: str | None = None  # « Code reçu par courriel », see implantation.services.gate_codes
    # Selection of the SIAE (``selection_siae``): the sourced SIAEs, the one selected and its activity.
    candidate_siae_ids: list[int] = field(default_factory=list)
    selected_siae_id: int | None = None
    activity: str | None = None
    # Launch (``lancement``): the effective start of the activity; checklist items confirmed (etapes.toml ids).
    launch_date: date | None = None
    confirmed: set[str] = field(default_factory=set)
    # Any stage: the pilot's motive for approving without the COPILs or deliverables (config/etapes.toml).
    derogation: str | None = None
    # Stages that produce facts (``gate_facts``): what the form entered, read by the caller, and what could
    # not be read; checked after the approver's code, written with the decision when it is accepted.
    facts: Dossier | None = None
    facts_unreadable: list[str] = field(default_factory=list)


@dataclass
class DecisionOutcome:
    """What a decision did; a replay reads it back from the log row of its key, never from today's state."""

    accepted: bool
    problems: list[str] = field(default_factory=list)
    replayed: bool = False
    next_stage: int | None = None
    next_attempt: int | None = None
    launched: bool = False
    locked_until: datetime | None = None  # this refusal locked the gate: the pilot must be told

    @classmethod
    def logged(cls, row: TransitionLog, last_stage: int) -> "DecisionOutcome":
        """``last_stage``: the stage whose approval launches the project (the last of ``etapes.toml``)."""
        if not row.accepted:
            return cls(accepted=False, problems=(row.reason or "").split(" ; "), replayed=True)
        launched = row.transition == StageTransition.APPROVE.value and row.stage == last_stage
        return cls(
            accepted=True,
            replayed=True,
            next_stage=row.next_stage,
            next_attempt=row.next_attempt,
            launched=launched,
        )


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
    departement = departement_of(session, project)
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
    if request.decision == Decision.RESUME:
        if record.status != StageStatus.SUSPENDED:
            problems.append(f"l'étape {request.stage} n'est pas suspendue (« {record.status.label} »)")
    elif record.status == StageStatus.SUSPENDED:
        problems.append(
            f"l'étape {request.stage} est suspendue depuis le {record.suspended_on:%d/%m/%Y} : "
            "la reprendre d'abord (décision « reprendre »)"
        )
    elif record.status != StageStatus.OPEN:
        problems.append(f"l'étape {request.stage} n'est pas en cours (« {record.status.label} »)")
    approver = session.get(Person, request.approver_id)
    problems += approver_problems(session, cfg, project, approver, request.stage)
    if request.decision == Decision.SUSPEND and not (request.reason or "").strip():
        problems.append(
            "un motif est obligatoire pour suspendre : ce qui est attendu, et de qui "
            "(par exemple « attestation d'assurance attendue de la SIAE »)"
        )
    elif request.decision in (Decision.REJECT, Decision.SEND_BACK) and not (request.reason or "").strip():
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
    from implantation.services import gate_requirements

    missing = gate_requirements.approval_requirements(session, cfg, project, request.stage)
    if not (request.derogation or "").strip():
        return missing.overridable + missing.binding
    return (
        gate_requirements.override_problems(cfg, request.stage, approver, request.derogation, missing)
        + missing.binding
    )


def _log_override(
    session: Session, cfg: ProcessConfig, project: ImplantationProject, request: DecisionRequest, actor: Actor
) -> None:
    """An accepted override gets its own log row: who, why, and what was missing."""
    from implantation.services import gate_requirements

    if (request.derogation or "").strip():
        missing = gate_requirements.approval_requirements(session, cfg, project, request.stage)
        note = gate_requirements.override_note(missing, request.derogation or "")
        log_transition(session, project, "derogation", actor, stage=request.stage, reason=note)


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


def lock_stage(session: Session, project_id: int, stage: int) -> None:
    """Take the stage row for this transaction before reading anything a decision depends on (see
    :func:`workflow.lock_stages`): a second decision at the same gate waits until the first commits, then
    reads its outcome."""
    lock_stages(session, project_id, stage)


def decide(
    session: Session,
    cfg: ProcessConfig,
    project_id: int,
    request: DecisionRequest,
    today: date,
    *,
    secret: bytes,
) -> DecisionOutcome:
    """Apply a gate decision, or log its refusal; replaying the same key changes nothing.

    Only the approver's own one-time code (``secret``, see ``gate_codes``) lets the decision through.
    The stage row is locked first (:func:`lock_stage`), so the check and the write are one step even when
    two answers arrive together: the second sees the first's outcome (the same key: its replay; another
    key: the stage is no longer open).
    """
    lock_stage(session, project_id, request.stage)
    if request.key:
        previous = logged_decision(session, request.key)
        if previous is not None:
            return DecisionOutcome.logged(previous, cfg.last_stage)
    project = get_project(session, project_id)
    approver = session.get(Person, request.approver_id)
    actor = Actor.of(approver) if approver else Actor(label=f"personne inconnue #{request.approver_id}")
    allowed = approver if not approver_problems(session, cfg, project, approver, request.stage) else None
    now = utcnow()
    refusal = gate_codes.code_refusal(
        session, secret, project_id, request.stage, allowed, request.code, request.key, now
    )
    if refusal is not None:
        log_transition(
            session,
            project,
            refusal.transition,
            actor,
            stage=request.stage,
            reason=refusal.problem,
            accepted=False,
            key=request.key,
        )
        if refusal.locks_until is not None:
            log_transition(
                session,
                project,
                gate_codes.LOCK,
                SYSTEM,
                stage=request.stage,
                reason=refusal.problem,
                accepted=False,
            )
        session.flush()
        return DecisionOutcome(accepted=False, problems=[refusal.problem], locked_until=refusal.locks_until)
    problems = _fact_problems(session, cfg, project, request) or decision_problems(
        session, cfg, project, request
    )
    if problems:
        log_transition(
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
    # Nothing is flushed until the decision's row knows where it led: the journal chains a row when it is
    # flushed, and ``next_stage`` and ``next_attempt`` are part of what it chains.
    with session.no_autoflush:
        outcome = _apply(session, cfg, project, request, actor, today)
    if request.facts is not None and approver is not None:
        gate_facts.save(session, cfg, project, request.facts, approver, request.stage)
    session.flush()
    return outcome


def _apply(
    session: Session,
    cfg: ProcessConfig,
    project: ImplantationProject,
    request: DecisionRequest,
    actor: Actor,
    today: date,
) -> DecisionOutcome:
    """The accepted decision's state changes and log rows, its row naming the stage and attempt it opened."""
    assert project.id is not None
    record = get_stage(session, project.id, request.stage)
    outcome = DecisionOutcome(accepted=True)
    if request.decision == Decision.APPROVE:
        _log_override(session, cfg, project, request, actor)
        row = move_stage(
            session, project, record, StageTransition.APPROVE, actor, request.reason, request.key
        )
        record.closed_on = today
        if cfg.has(request.stage, DecisionKind.SIAE_SELECTION):
            _record_selection(session, project, request)
        following = cfg.next_stage(request.stage)
        if following is not None:
            opened = open_stage(session, cfg, project, following, today)
            outcome.next_stage, outcome.next_attempt = opened.stage, opened.attempt
        else:
            launch(session, project, request.launch_date or today, actor)
            outcome.launched = True
    elif request.decision == Decision.REJECT:
        row = move_stage(session, project, record, StageTransition.REJECT, actor, request.reason, request.key)
    elif request.decision in (Decision.SUSPEND, Decision.RESUME):
        row = clock.apply(
            session, project, record, actor, request.decision, request.reason, today, request.key
        )
    else:
        row, opened = send_back(
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
        outcome.next_stage, outcome.next_attempt = opened.stage, opened.attempt
    row.next_stage, row.next_attempt = outcome.next_stage, outcome.next_attempt
    session.add(row)
    return outcome


def _fact_problems(
    session: Session, cfg: ProcessConfig, project: ImplantationProject, request: DecisionRequest
) -> list[str]:
    """The facts entered in the form, in the form's words: unreadable ones, then the rules that need what
    is recorded (periods, ETP within posts, start date)."""
    if request.facts_unreadable:
        return list(request.facts_unreadable)
    model = gate_facts.facts_model(cfg, request.stage)
    if request.facts is None or model is None:
        return []
    return gate_facts.problems_with_recorded(session, cfg, project, model, request.facts)


def _record_selection(session: Session, project: ImplantationProject, request: DecisionRequest) -> None:
    existing = set(session.exec(select(CandidateSiae.siae_id).where(CandidateSiae.project_id == project.id)))
    for siae_id in request.candidate_siae_ids:
        if siae_id not in existing:
            session.add(CandidateSiae(project_id=project.id, siae_id=siae_id))  # type: ignore[arg-type]
    project.siae_id = request.selected_siae_id
    project.activity = (request.activity or "").strip()
    session.add(project)
