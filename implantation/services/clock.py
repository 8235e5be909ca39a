"""The clock that stops: a stage waiting on the other party does not count against its pilot.

« suspendre » (motif: what is awaited, and from whom) stops the stage's clock; « reprendre » restarts it
and moves the due date by the working days of the département that the clock stood still. While the
stage is suspended the deadline sweep leaves it alone (it only looks at open stages). Both are decisions
of the stage's gate, checked with the roles of ``config/etapes.toml`` and logged like the others.
"""

from datetime import date, timedelta

from sqlmodel import Session

from implantation.calendar import add_working_days, working_days_between
from implantation.db.models import ImplantationProject, StageRecord, TransitionLog
from implantation.enums import Decision
from implantation.services.workflow import Actor, departement_of, move_stage
from implantation.transitions import StageTransition


def apply(
    session: Session,
    project: ImplantationProject,
    record: StageRecord,
    actor: Actor,
    decision: Decision,
    reason: str | None,
    today: date,
    key: str | None = None,
) -> TransitionLog:
    """« suspendre » or « reprendre » taken at the gate; the decision's log row (the caller records what
    followed it there)."""
    if decision == Decision.SUSPEND:
        return suspend_stage(session, project, record, actor, reason or "", today, key)
    return resume_stage(session, project, record, actor, reason, today, key)[0]


def suspend_stage(
    session: Session,
    project: ImplantationProject,
    record: StageRecord,
    actor: Actor,
    reason: str,
    today: date,
    key: str | None = None,
) -> TransitionLog:
    """Stop the stage's clock: it waits on the other party, so no reminder or escalation runs."""
    row = move_stage(session, project, record, StageTransition.SUSPEND, actor, reason, key)
    record.suspended_on = today
    return row


def stopped_working_days(suspended_on: date, today: date, departement: str) -> int:
    """Working days ``d`` with ``suspended_on <= d < today``: the days the clock did not run."""
    return working_days_between(suspended_on - timedelta(days=1), today - timedelta(days=1), departement)


def resume_stage(
    session: Session,
    project: ImplantationProject,
    record: StageRecord,
    actor: Actor,
    reason: str | None,
    today: date,
    key: str | None = None,
) -> tuple[TransitionLog, int]:
    """Restart the clock; the due date moves by the working days stopped (in the log's reason too)."""
    assert record.suspended_on is not None
    departement = departement_of(session, project)
    days = stopped_working_days(record.suspended_on, today, departement)
    before = record.due_on
    if before is not None:
        record.due_on = add_working_days(before, days, departement)
    moved = (
        f"horloge arrêtée {days} jour(s) ouvré(s) (du {record.suspended_on:%d/%m/%Y} au {today:%d/%m/%Y}), "
        f"échéance reportée du {before:%d/%m/%Y} au {record.due_on:%d/%m/%Y}"
        if before is not None and record.due_on is not None
        else f"horloge arrêtée {days} jour(s) ouvré(s)"
    )
    text = f"{reason.strip()} — {moved}" if reason and reason.strip() else moved.capitalize()
    row = move_stage(session, project, record, StageTransition.RESUME, actor, text, key)
    record.suspended_days += days
    record.suspended_on = None
    return row, days
