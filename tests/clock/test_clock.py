"""The clock that stops: « suspendre » freezes a stage's deadline, « reprendre » moves it by the days stopped."""

from datetime import date, datetime, timedelta

import time_machine
from factories import decide
from mailsink import MailSink, World, make_world
from sqlmodel import Session, col, select

from implantation.config.schema import ProcessConfig
from implantation.db.models import TransitionLog
from implantation.deadlines import deadline_state, run_deadline_sweep
from implantation.enums import Decision, StageStatus
from implantation.services.decisions import DecisionRequest
from implantation.services.projects import timeline
from implantation.services.workflow import get_stage
from implantation.settings import Settings

DUE = date(2026, 4, 7)  # stage 1 of a project started 5 January 2026 in the Rhône


def _decide(
    session: Session, cfg: ProcessConfig, world: World, decision: Decision, reason: str | None
) -> list[str]:
    request = DecisionRequest(stage=1, decision=decision, approver_id=world.people["lead"], reason=reason)
    outcome = decide(session, cfg, world.project_id, request, date.today())
    session.commit()
    return outcome.problems


def _sweep_each_day(session: Session, cfg: ProcessConfig, settings: Settings, first: date, last: date) -> int:
    sent = 0
    day = first
    while day <= last:
        with time_machine.travel(datetime(day.year, day.month, day.day, 7, 0), tick=False):
            sent += len(run_deadline_sweep(session, cfg, settings, date.today()))
            session.commit()
        day += timedelta(days=1)
    return sent


def test_ten_working_days_stopped_move_the_due_date_and_silence_reminders(
    session: Session, cfg: ProcessConfig, settings: Settings, mail_sink: MailSink
) -> None:
    world = make_world(session, cfg)
    assert get_stage(session, world.project_id, 1).due_on == DUE
    with time_machine.travel(datetime(2026, 3, 30, 9, 0), tick=False):
        assert (
            _decide(session, cfg, world, Decision.SUSPEND, "Plan des locaux attendu de l'établissement") == []
        )
    record = get_stage(session, world.project_id, 1)
    assert record.status == StageStatus.SUSPENDED and record.suspended_on == date(2026, 3, 30)

    # Stopped from 30 March to 13 April: the reminder date (23 March) and the due date have passed.
    assert _sweep_each_day(session, cfg, settings, date(2026, 3, 30), date(2026, 4, 13)) == 0
    assert mail_sink.mails == []

    # 30, 31 March, 1-3 April, 7-10 and 13 April: 10 working days (Easter Monday is off).
    with time_machine.travel(datetime(2026, 4, 14, 9, 0), tick=False):
        assert _decide(session, cfg, world, Decision.RESUME, "Plan reçu") == []
    record = get_stage(session, world.project_id, 1)
    assert record.status == StageStatus.OPEN and record.suspended_on is None
    assert record.suspended_days == 10
    assert record.due_on == date(2026, 4, 21)

    logged = session.exec(
        select(TransitionLog)
        .where(TransitionLog.project_id == world.project_id)
        .order_by(col(TransitionLog.id))
    ).all()
    stops = [
        (r.transition, r.actor_role, r.at is not None)
        for r in logged
        if r.transition in ("suspendre", "reprendre")
    ]
    assert stops == [("suspendre", "disp", True), ("reprendre", "disp", True)]
    assert "échéance reportée du 07/04/2026 au 21/04/2026" in (logged[-1].reason or "")

    # The clock runs again: the reminder is due (21 April is less than 10 working days away), once.
    assert _sweep_each_day(session, cfg, settings, date(2026, 4, 14), date(2026, 4, 21)) == 1
    assert "21 avril 2026" in mail_sink.mails[0].subject
    # No escalation before the new due date has passed.
    assert _sweep_each_day(session, cfg, settings, date(2026, 4, 22), date(2026, 4, 22)) == 1
    assert "Relance n° 1 – étape 1 en retard de 1 jour" in mail_sink.mails[-1].subject


def test_suspension_needs_a_reason_and_blocks_other_decisions(
    session: Session, cfg: ProcessConfig, mail_sink: MailSink
) -> None:
    world = make_world(session, cfg)
    with time_machine.travel(datetime(2026, 2, 2, 9, 0), tick=False):
        problems = _decide(session, cfg, world, Decision.SUSPEND, "  ")
        assert any("ce qui est attendu, et de qui" in p for p in problems)
        assert _decide(session, cfg, world, Decision.RESUME, None) == [
            "l'étape 1 n'est pas suspendue (« En cours »)"
        ]
        assert _decide(session, cfg, world, Decision.SUSPEND, "Convention attendue de la SIAE") == []
        problems = _decide(session, cfg, world, Decision.APPROVE, None)
        assert any("suspendue depuis le 02/02/2026" in p for p in problems)
    with time_machine.travel(datetime(2026, 2, 20, 9, 0), tick=False):
        rows = timeline(session, cfg, world.project(session), date.today())
    assert rows[0].status == StageStatus.SUSPENDED
    assert rows[0].suspended_on == date(2026, 2, 2)
    assert rows[0].suspension_reason == "Convention attendue de la SIAE"


def test_a_due_date_moved_by_the_clock_gets_its_own_reminder(
    session: Session, cfg: ProcessConfig, settings: Settings, mail_sink: MailSink
) -> None:
    """The reminder of 7 April went out on 23 March; the stage then waits 10 working days on the other
    party: the new due date, 21 April, is announced by a reminder of its own, and its escalations count
    from 1 again."""
    world = make_world(session, cfg)
    assert _sweep_each_day(session, cfg, settings, date(2026, 3, 23), date(2026, 3, 27)) == 1
    assert "7 avril 2026" in mail_sink.mails[0].subject
    with time_machine.travel(datetime(2026, 3, 30, 9, 0), tick=False):
        assert (
            _decide(session, cfg, world, Decision.SUSPEND, "Plan des locaux attendu de l'établissement") == []
        )
    assert _sweep_each_day(session, cfg, settings, date(2026, 3, 30), date(2026, 4, 13)) == 0
    with time_machine.travel(datetime(2026, 4, 14, 9, 0), tick=False):
        assert _decide(session, cfg, world, Decision.RESUME, "Plan reçu") == []
    assert get_stage(session, world.project_id, 1).due_on == date(2026, 4, 21)

    assert _sweep_each_day(session, cfg, settings, date(2026, 4, 14), date(2026, 4, 21)) == 1
    assert "21 avril 2026" in mail_sink.mails[1].subject
    assert _sweep_each_day(session, cfg, settings, date(2026, 4, 22), date(2026, 4, 22)) == 1
    assert "Relance n° 1 – étape 1 en retard de 1 jour" in mail_sink.mails[2].subject
    state = next(s for s in deadline_state(session, world.project_id, date(2026, 4, 22)) if s.stage == 1)
    assert (state.reminders_sent, state.escalations_sent, state.last_escalation_number) == (2, 1, 1)
