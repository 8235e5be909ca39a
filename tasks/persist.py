"""Database writes of the workflow: create a project, read a stage, apply a gate decision.

Each call is one transaction through ``implantation.services``. Decisions carry the gate's key as
idempotency key, so a replayed ``decide`` (resumed flow, restarted runner) returns the logged outcome
and writes nothing.
"""

from datetime import date, datetime
from typing import Any

from prefect import runtime as prefect_runtime
from prefect import task
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from implantation import fault_points
from implantation.config.schema import DecisionKind, ProcessConfig
from implantation.dates import today
from implantation.db.models import ImplantationProject, Person
from implantation.db.session import session_scope
from implantation.enums import Decision, ProjectStatus, Role, StageStatus
from implantation.notifications.codes import send_lock_alert
from implantation.services import choices, gate_facts
from implantation.services.decisions import (
    DecisionOutcome,
    DecisionRequest,
    approver_problems,
    decide,
)
from implantation.services.errors import DomainError
from implantation.services.gate_codes import gate_secret
from implantation.services.workflow import (
    Actor,
    create_project,
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
        return self.statut in (StageStatus.OPEN, StageStatus.SUSPENDED)


class GateResult(BaseModel):
    """Outcome of one answer to a gate; ``problems`` are shown in the next form when refused."""

    accepted: bool
    decision: Decision | None = None
    problems: list[str] = []
    replayed: bool = False
    next_stage: int | None = None
    next_attempt: int | None = None
    launched: bool = False
    locked_until: datetime | None = None  # this refusal locked the gate: the pilot is told


def creation_key_of_run(flow_run_id: Any) -> str | None:
    """The idempotency key of a project created by a run: a rerun after a crash finds that project."""
    return f"creation-run-{flow_run_id}" if flow_run_id else None


@task(name="creer-projet", **TASK_OPTIONS)
def create_project_task(etablissement: str, chef_de_projet: str, date_debut: date | None) -> ProjectRef:
    """Create the project once per run: a crash between the commit and the task's result (runner killed)
    reruns the task, which then finds the project logged under the run's key instead of creating a second.

    ``etablissement`` and ``chef_de_projet`` as chosen in the run form (labels), or codes, e-mails, ids.
    """
    _settings, cfg, engine = runtime()
    key = creation_key_of_run(prefect_runtime.flow_run.id)

    def create() -> ProjectRef:
        with session_scope(engine) as session:
            site = choices.establishment(session, etablissement)
            lead = choices.person(session, chef_de_projet, "chef_de_projet", Role.DISP)
            assert site.id is not None and lead.id is not None
            project = create_project(
                session, cfg, site.id, lead.id, date_debut or today(), Actor.of(lead), key=key
            )
            assert project.id is not None
            return ProjectRef(projet_id=project.id, reference=project.reference)

    try:
        return create()
    except IntegrityError:  # the same run created it at the same moment: read that one
        return create()


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


def still_asked(projet_id: int, etape: int, tentative: int) -> bool:
    """Is the gate of this stage attempt still waiting for a decision, as the database says now?

    Not a task: a task's result is persisted and served again to a replayed run, whereas the project
    may have been abandoned (or the stage sent back) while the run went on. The stage flow reads it
    afresh before each ask, so that no approval request is mailed for a gate nobody may answer any more.
    """
    _settings, _cfg, engine = runtime()
    with session_scope(engine) as session:
        project = get_project(session, projet_id)
        record = get_stage(session, projet_id, etape)
        return (
            project.status == ProjectStatus.IN_PROGRESS
            and record.status in (StageStatus.OPEN, StageStatus.SUSPENDED)
            and record.attempt == tentative
        )


# The form's fields as a person reads them, to name the one that could not be read.
FIELD_TITLES = {
    "decision": "Décision",
    "etape_renvoi": "Étape de renvoi",
    "siae_sourcees": "SIAE sourcées",
    "siae_retenue": "SIAE retenue",
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


def _stage_number(name: str, value: Any) -> int | None:
    """A stage picked in the list (« 2 — Réaliser le sourcing des SIAE »), or its number in answers
    stored before the list."""
    if value in (None, *NO_CHOICE):
        return None
    number = str(value).split("—", 1)[0].strip()
    return int(_read(name, number, int, "une étape de la liste"))


def _launch_date(value: Any) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    parsed: date = _read("date_lancement", value, date.fromisoformat, "une date AAAA-MM-JJ")
    return parsed


NO_CHOICE = ("", "(aucune)")  # the empty choice of a list in the gate form (SIAEs, earlier stages)


def _siae_id(session: Session, name: str, value: Any) -> int:
    """An SIAE of the list (label), or its SIRET, or its id in answers stored before the lists."""
    try:
        found = choices.siae(session, value, name)
    except DomainError:
        raise UnreadableAnswer(
            f"champ « {FIELD_TITLES[name]} » illisible : « {value} » n'est pas une SIAE de la liste"
        ) from None
    assert found.id is not None
    return found.id


def _request(
    session: Session, cfg: ProcessConfig, stage: int, key: str, approver_id: int, answer: dict[str, Any]
) -> DecisionRequest:
    checklist = {item.id for item in cfg.checklist(stage)}
    decisions = ", ".join(d.value for d in Decision)
    sourced = answer.get("siae_sourcees") or []
    if not isinstance(sourced, list):
        sourced = [sourced]
    selected = answer.get("siae_retenue")
    return DecisionRequest(
        stage=stage,
        decision=_read("decision", answer.get("decision"), Decision, f"une décision ({decisions})"),
        approver_id=approver_id,
        reason=(answer.get("motif") or "").strip() or None,
        target_stage=_stage_number("etape_renvoi", answer.get("etape_renvoi")),
        key=key,
        code=str(answer.get("code") or ""),
        candidate_siae_ids=[_siae_id(session, "siae_sourcees", value) for value in sourced],
        selected_siae_id=None
        if selected in (None, *NO_CHOICE)
        else _siae_id(session, "siae_retenue", selected),
        activity=answer.get("activite"),
        launch_date=_launch_date(answer.get("date_lancement")),
        confirmed={name for name in checklist if answer.get(name) is True},
        derogation=(answer.get("derogation") or "").strip() or None,
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
    session: Session,
    cfg: ProcessConfig,
    projet_id: int,
    etape: int,
    key: str,
    answer: dict[str, Any],
    today: date,
    secret: bytes,
    shown: dict[str, Any] | None = None,
) -> GateResult:
    """Check and apply one gate answer in the caller's transaction; refusals are logged, never raised.

    The next stage and attempt come from the decision's log row (:class:`DecisionOutcome`), so a replay
    after the project moved on still names the run the decision started. The stage's facts entered in
    the form (``shown``: the values the form showed) are read here and checked by ``decide`` after the
    approver's code, then written with the decision, in its transaction, only when it is accepted: the
    code proves who entered them.
    """
    project = get_project(session, projet_id)
    email = str(answer.get("approbateur") or "")
    approver = _find_approver(session, cfg, project, email, etape)
    try:
        request = _request(session, cfg, etape, key, approver.id if approver and approver.id else 0, answer)
    except UnreadableAnswer as exc:
        return GateResult(accepted=False, problems=[f"saisie illisible : {exc}"])
    model = gate_facts.facts_model(cfg, etape)
    if model is not None:
        request.facts, request.facts_unreadable = gate_facts.read(model, answer, shown or {})
    try:
        outcome = decide(session, cfg, projet_id, request, today, secret=secret)
    except DomainError as exc:
        return GateResult(accepted=False, decision=request.decision, problems=[str(exc)])
    if not outcome.accepted:
        shown_problems = list(outcome.problems)
        if approver is None and email:
            shown_problems.insert(0, f"aucune personne enregistrée avec l'adresse « {email} »")
        return GateResult(
            accepted=False,
            decision=request.decision,
            problems=shown_problems,
            replayed=outcome.replayed,
            locked_until=outcome.locked_until,
        )
    return _result(request, outcome)


@task(name="decider", **TASK_OPTIONS)
def decide_gate(
    projet_id: int, etape: int, key: str, answer: dict[str, Any], shown: dict[str, Any] | None = None
) -> GateResult:
    """One gate answer, one transaction. A unique-key clash means another run logged this very answer
    first (a replay racing the original): its logged outcome is returned instead of failing the run.
    A refusal that locks the gate (too many wrong codes) is committed before the pilot is told.
    ``shown``: the stage's facts as its form showed them (:func:`tasks.describe.gate_facts`)."""
    settings, cfg, engine = runtime()
    secret = gate_secret(settings)

    def answer_once() -> GateResult:
        with session_scope(engine) as session:
            result = apply_answer(session, cfg, projet_id, etape, key, answer, today(), secret, shown)
            if result.locked_until is not None:
                session.commit()  # the refusal and the lock stand even if the pilot's e-mail fails
                project = get_project(session, projet_id)
                send_lock_alert(session, settings, cfg, project, etape, result.locked_until, key)
            return result

    try:
        result = answer_once()
    except IntegrityError:
        result = answer_once()
    fault_points.point("decision")  # committed, the task's result not yet stored
    return result
