"""Database writes of the workflow: create a project, read a stage, apply a gate decision.

Each call is one transaction through ``implantation.services``. Decisions carry the gate's key as
idempotency key, so a replayed ``decide`` (resumed flow, restarted runner) returns the logged outcome
and writes nothing.
"""

from datetime import date
from typing import Any

from prefect import runtime as prefect_runtime
from prefect import task
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from implantation.db.models import ImplantationProject, Person
from implantation.db.session import session_scope
from implantation.enums import Decision, StageStatus
from implantation.services.errors import DomainError
from implantation.services.workflow import (
    Actor,
    DecisionOutcome,
    DecisionRequest,
    approver_problems,
    create_project,
    decide,
    get_project,
    get_stage,
)
from implantation.settings import today
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


def creation_key_of_run(flow_run_id: Any) -> str | None:
    """The idempotency key of a project created by a run: a rerun after a crash finds that project."""
    return f"creation-run-{flow_run_id}" if flow_run_id else None


@task(name="creer-projet", **TASK_OPTIONS)
def create_project_task(etablissement_id: int, chef_de_projet_id: int, date_debut: date | None) -> ProjectRef:
    """Create the project once per run: a crash between the commit and the task's result (runner killed)
    reruns the task, which then finds the project logged under the run's key instead of creating a second."""
    _settings, cfg, engine = runtime()
    key = creation_key_of_run(prefect_runtime.flow_run.id)

    def create() -> ProjectRef:
        with session_scope(engine) as session:
            lead = session.get(Person, chef_de_projet_id)
            actor = Actor.of(lead) if lead else Actor(label=f"personne inconnue #{chef_de_projet_id}")
            project = create_project(
                session, cfg, etablissement_id, chef_de_projet_id, date_debut or today(), actor, key=key
            )
            assert project.id is not None
            return ProjectRef(projet_id=project.id, reference=project.reference)

    try:
        return create()
    except IntegrityError:  # the same run created it at the same moment: read that one
        return create()


@task(name="lire-etape", **TASK_OPTIONS)
def load_stage(projet_id: int, etape: int) -> StageInfo:
    _settings, _cfg, engine = runtime()
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
        )


def _find_approver(
    session: Session, cfg: Any, project: ImplantationProject, email: str, stage: int
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


# The form's fields as a person reads them, to name the one that could not be read.
FIELD_TITLES = {
    "decision": "Décision",
    "etape_renvoi": "Étape de renvoi",
    "siae_sourcees": "SIAE sourcées (identifiants)",
    "siae_retenue": "SIAE retenue (identifiant)",
    "date_lancement": "Date de démarrage de l'activité",
}


class UnreadableAnswer(ValueError):
    """A field of the stored answer cannot be read; the message is French and names the field."""


def _read(name: str, value: Any, convert: Any, expected: str) -> Any:
    try:
        return convert(value)
    except (ValueError, TypeError, KeyError):
        raise UnreadableAnswer(
            f"champ « {FIELD_TITLES[name]} » illisible : « {value} » n'est pas {expected}"
        ) from None


def _optional_int(name: str, value: Any) -> int | None:
    if value in (None, ""):
        return None
    return int(_read(name, value, int, "un nombre entier"))


def _launch_date(value: Any) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    return _read("date_lancement", value, date.fromisoformat, "une date AAAA-MM-JJ")  # type: ignore[no-any-return]


def _request(cfg: Any, stage: int, key: str, approver_id: int, answer: dict[str, Any]) -> DecisionRequest:
    checklist = {item.id for decision in cfg.stage(stage).decisions for item in decision.verifications}
    choices = ", ".join(d.value for d in Decision)
    sourced = answer.get("siae_sourcees") or []
    if not isinstance(sourced, list):
        sourced = [sourced]
    return DecisionRequest(
        stage=stage,
        decision=_read("decision", answer.get("decision"), Decision, f"une décision ({choices})"),
        approver_id=approver_id,
        reason=(answer.get("motif") or "").strip() or None,
        target_stage=_optional_int("etape_renvoi", answer.get("etape_renvoi")),
        key=key,
        candidate_siae_ids=[int(_read("siae_sourcees", i, int, "un identifiant")) for i in sourced],
        selected_siae_id=_optional_int("siae_retenue", answer.get("siae_retenue")),
        activity=answer.get("activite"),
        launch_date=_launch_date(answer.get("date_lancement")),
        confirmed={name for name in checklist if answer.get(name) is True},
    )


def _result(request: DecisionRequest, outcome: DecisionOutcome) -> GateResult:
    return GateResult(
        accepted=True,
        decision=request.decision,
        replayed=outcome.replayed,
        next_stage=outcome.next_stage,
        next_attempt=outcome.next_attempt,
        launched=outcome.launched,
    )


def apply_answer(
    session: Session, cfg: Any, projet_id: int, etape: int, key: str, answer: dict[str, Any], today: date
) -> GateResult:
    """Check and apply one gate answer in the caller's transaction; refusals are logged, never raised.

    The next stage and attempt come from the decision's log row (:class:`DecisionOutcome`), so a replay
    after the project moved on still names the run the decision started.
    """
    project = get_project(session, projet_id)
    email = str(answer.get("approbateur") or "")
    approver = _find_approver(session, cfg, project, email, etape)
    try:
        request = _request(cfg, etape, key, approver.id if approver and approver.id else 0, answer)
    except UnreadableAnswer as exc:
        return GateResult(accepted=False, problems=[f"saisie illisible : {exc}"])
    try:
        outcome = decide(session, cfg, projet_id, request, today)
    except DomainError as exc:
        return GateResult(accepted=False, decision=request.decision, problems=[str(exc)])
    if not outcome.accepted:
        shown = list(outcome.problems)
        if approver is None and email:
            shown.insert(0, f"aucune personne enregistrée avec l'adresse « {email} »")
        return GateResult(
            accepted=False, decision=request.decision, problems=shown, replayed=outcome.replayed
        )
    return _result(request, outcome)


@task(name="decider", **TASK_OPTIONS)
def decide_gate(projet_id: int, etape: int, key: str, answer: dict[str, Any]) -> GateResult:
    """One gate answer, one transaction. A unique-key clash means another run logged this very answer
    first (a replay racing the original): its logged outcome is returned instead of failing the run."""
    _settings, cfg, engine = runtime()
    try:
        with session_scope(engine) as session:
            return apply_answer(session, cfg, projet_id, etape, key, answer, today())
    except IntegrityError:
        with session_scope(engine) as session:
            return apply_answer(session, cfg, projet_id, etape, key, answer, today())
