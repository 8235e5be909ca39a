"""Database writes of the workflow: create a project, read a stage, apply a gate decision.

Each call is one transaction through ``implantation.services``. Decisions carry the gate's key as
idempotency key, so a replayed ``decide`` (resumed flow, restarted runner) returns the logged outcome
and writes nothing.
"""

from datetime import date
from typing import Any

from prefect import task
from pydantic import BaseModel
from sqlmodel import Session, col, func, select

from implantation import dates
from implantation.config.schema import DecisionKind, ProcessConfig
from implantation.db.models import ImplantationProject, Person
from implantation.db.session import session_scope
from implantation.enums import Decision, Role, StageStatus
from implantation.services import choices
from implantation.services.errors import DomainError
from implantation.services.workflow import (
    Actor,
    DecisionRequest,
    approver_problems,
    create_project,
    decide,
    get_project,
    get_stage,
)
from tasks.common import TASK_OPTIONS, runtime


class ProjectRef(BaseModel):
    projet_id: int
    reference: str


class StageInfo(BaseModel):
    projet_id: int
    reference: str
    etape: int
    statut: StageStatus
    tentative: int
    echeance: date | None
    # The administrative documents are produced before this gate (it approves the convention).
    documents: bool = False

    @property
    def open(self) -> bool:
        return self.statut == StageStatus.OPEN


class GateResult(BaseModel):
    """Outcome of one answer to a gate; ``problems`` are shown in the next form when refused."""

    accepted: bool
    decision: Decision | None = None
    problems: list[str] = []
    replayed: bool = False
    next_stage: int | None = None
    next_attempt: int | None = None
    launched: bool = False


@task(name="creer-projet", **TASK_OPTIONS)
def create_project_task(etablissement: str, chef_de_projet: str, date_debut: date | None) -> ProjectRef:
    """``etablissement`` and ``chef_de_projet`` as chosen in the run form (labels), or codes, e-mails, ids."""
    _settings, cfg, engine = runtime()
    with session_scope(engine) as session:
        site = choices.establishment(session, etablissement)
        lead = choices.person(session, chef_de_projet, "chef_de_projet", Role.DISP)
        assert site.id is not None and lead.id is not None
        project = create_project(session, cfg, site.id, lead.id, date_debut or dates.today(), Actor.of(lead))
        assert project.id is not None
        return ProjectRef(projet_id=project.id, reference=project.reference)


@task(name="lire-etape", **TASK_OPTIONS)
def load_stage(projet_id: int, etape: int) -> StageInfo:
    _settings, cfg, engine = runtime()
    with session_scope(engine) as session:
        project = get_project(session, projet_id)
        record = get_stage(session, projet_id, etape)
        return StageInfo(
            projet_id=projet_id,
            reference=project.reference,
            etape=etape,
            statut=record.status,
            tentative=record.attempt,
            echeance=record.due_on,
            documents=cfg.has(etape, DecisionKind.CONVENTION_APPROVAL),
        )


def _find_approver(
    session: Session, cfg: ProcessConfig, project: ImplantationProject, email: str, stage: int
) -> Person | None:
    """The person with that address; among homonymous addresses, the one allowed to decide here."""
    people = list(
        session.exec(
            select(Person).where(func.lower(Person.email) == email.strip().lower()).order_by(col(Person.id))
        )
    )
    for person in people:
        if not approver_problems(session, cfg, project, person, stage):
            return person
    return people[0] if people else None


def _optional_int(value: Any) -> int | None:
    return int(value) if value not in (None, "") else None


NO_CHOICE = ("", "(aucune)")  # the empty choice of a list in the gate form


def _siae_id(session: Session, value: Any, field: str) -> int:
    found = choices.siae(session, value, field)
    assert found.id is not None
    return found.id


def _request(
    session: Session, cfg: ProcessConfig, stage: int, key: str, approver_id: int, answer: dict[str, Any]
) -> DecisionRequest:
    """The answer as a decision; SIAEs come as labels of the list (or SIRETs, or ids in older answers)."""
    launch = answer.get("date_lancement")
    checklist = {item.id for item in cfg.checklist(stage)}
    selected = answer.get("siae_retenue")
    return DecisionRequest(
        stage=stage,
        decision=Decision(answer["decision"]),
        approver_id=approver_id,
        reason=(answer.get("motif") or "").strip() or None,
        target_stage=_optional_int(answer.get("etape_renvoi")),
        key=key,
        candidate_siae_ids=[_siae_id(session, v, "siae_sourcees") for v in answer.get("siae_sourcees") or []],
        selected_siae_id=None
        if selected in (None, *NO_CHOICE)
        else _siae_id(session, selected, "siae_retenue"),
        activity=answer.get("activite"),
        launch_date=date.fromisoformat(launch) if isinstance(launch, str) and launch else launch or None,
        confirmed={name for name in checklist if answer.get(name) is True},
    )


def _next(
    session: Session, cfg: ProcessConfig, projet_id: int, stage: int, request: DecisionRequest
) -> GateResult:
    project = get_project(session, projet_id)
    if request.decision == Decision.APPROVE:
        following = cfg.next_stage(stage)
        if following is None:
            return GateResult(accepted=True, decision=request.decision, launched=True)
        record = get_stage(session, projet_id, following)
        return GateResult(
            accepted=True, decision=request.decision, next_stage=following, next_attempt=record.attempt
        )
    if request.decision == Decision.SEND_BACK:
        target = project.current_stage
        record = get_stage(session, projet_id, target)
        return GateResult(
            accepted=True, decision=request.decision, next_stage=target, next_attempt=record.attempt
        )
    return GateResult(accepted=True, decision=request.decision)


@task(name="decider", **TASK_OPTIONS)
def decide_gate(projet_id: int, etape: int, key: str, answer: dict[str, Any]) -> GateResult:
    """Check and apply one gate answer in one transaction; refusals are logged too, never raised."""
    _settings, cfg, engine = runtime()
    with session_scope(engine) as session:
        project = get_project(session, projet_id)
        email = str(answer.get("approbateur") or "")
        approver = _find_approver(session, cfg, project, email, etape)
        try:
            request = _request(
                session, cfg, etape, key, approver.id if approver and approver.id else 0, answer
            )
        except DomainError as exc:
            return GateResult(accepted=False, problems=[str(exc)])
        except (ValueError, KeyError, TypeError) as exc:
            return GateResult(accepted=False, problems=[f"saisie illisible : {exc}"])
        try:
            outcome = decide(session, cfg, projet_id, request, dates.today())
        except DomainError as exc:
            return GateResult(accepted=False, decision=request.decision, problems=[str(exc)])
        if not outcome.accepted:
            shown = list(outcome.problems)
            if approver is None and email:
                shown.insert(0, f"aucune personne enregistrée avec l'adresse « {email} »")
            return GateResult(
                accepted=False, decision=request.decision, problems=shown, replayed=outcome.replayed
            )
        session.flush()
        result = _next(session, cfg, projet_id, etape, request)
        result.replayed = outcome.replayed
        return result
