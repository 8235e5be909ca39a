"""Reminders and weekly escalations, driven by an injected date, a real database and a real SMTP server."""

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import factories
import pytest
from aiosmtpd.controller import Controller
from factories import decide
from mailsink import MailSink, World, free_port, make_settings
from rich.console import Console
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from implantation.calendar import reminder_date
from implantation.cli.projects import timeline_table
from implantation.config.schema import ProcessConfig
from implantation.db.models import ImplantationProject, NotificationRecord
from implantation.db.session import make_engine
from implantation.deadlines import (
    DeadlineSweepError,
    deadline_actions,
    deadline_state,
    run_deadline_sweep,
    sweep_deadlines,
)
from implantation.enums import Decision
from implantation.notifications.mailer import MailKind
from implantation.services.decisions import DecisionRequest
from implantation.services.workflow import SYSTEM, abandon, create_project, get_stage
from implantation.settings import Settings

DUE = date(2026, 4, 7)  # stage 1 opened 5 January 2026: 5 April is a Sunday, 6 April Easter Monday


def _due(session: Session, world: World, stage: int = 1) -> date:
    due = get_stage(session, world.project_id, stage).due_on
    assert due is not None
    return due


def _sweep(session: Session, cfg: ProcessConfig, settings: Settings, today: date) -> list[NotificationRecord]:
    sent = run_deadline_sweep(session, cfg, settings, today)
    session.commit()
    return sent


def test_due_date_and_reminder_date(session: Session, cfg: ProcessConfig, world: World) -> None:
    assert _due(session, world) == DUE
    # 10 working days before 7 April 2026, skipping Easter Monday and two weekends.
    assert reminder_date(DUE, cfg.calendar, "69") == date(2026, 3, 23)


def test_one_reminder_between_reminder_date_and_due_date(
    session: Session, cfg: ProcessConfig, settings: Settings, world: World, mail_sink: MailSink
) -> None:
    first = reminder_date(DUE, cfg.calendar, "69")
    assert deadline_actions(session, cfg, first - timedelta(days=1)) == []
    assert _sweep(session, cfg, settings, first - timedelta(days=1)) == []

    sent = _sweep(session, cfg, settings, first)
    assert [(r.kind, r.stage) for r in sent] == [("rappel", 1)]
    assert len(mail_sink.mails) == 1
    mail = mail_sink.mails[0]
    assert "Rappel – échéance de l'étape 1 le 7 avril 2026" in mail.subject
    assert "dans 15 jours" in mail.body
    assert set(mail.rcpt_tos) == {
        f"{n}@exemple.test" for n in ("dir_disp", "lead", "ep", "spip", "ule", "psy")
    }

    for day in (first, first + timedelta(days=1), DUE):
        assert deadline_actions(session, cfg, day) == []
        assert _sweep(session, cfg, settings, day) == []
    assert len(mail_sink.mails) == 1


def test_weekly_escalation_after_the_due_date(
    session: Session, cfg: ProcessConfig, settings: Settings, world: World, mail_sink: MailSink
) -> None:
    expected = {1: 1, 8: 2, 15: 3}  # days late -> escalation number shown in the mail
    for late in range(1, 17):
        today = DUE + timedelta(days=late)
        sent = _sweep(session, cfg, settings, today)
        again = _sweep(session, cfg, settings, today)  # twice the same day
        assert again == []
        if late in expected:
            assert [(r.kind, r.stage) for r in sent] == [("relance", 1)], late
            mail = mail_sink.mails[-1]
            jours = f"{late} jour" + ("s" if late > 1 else "")
            assert f"Relance n° {expected[late]} – étape 1 en retard de {jours}" in mail.subject
            assert f"elle est dépassée de {jours}" in mail.body
            # Pilots (DISP Lyon), the lead and the pilots' hierarchy.
            assert set(mail.rcpt_tos) == {"dir_disp@exemple.test", "lead@exemple.test"}
        else:
            assert sent == [], late
    assert len(mail_sink.mails) == 3

    states = {s.stage: s for s in deadline_state(session, world.project_id, DUE + timedelta(days=16))}
    assert states[1].days_late == 16
    assert states[1].reminders_sent == 0  # the sweep only started after the due date
    assert states[1].escalations_sent == 3
    assert states[1].last_escalation_number == 3
    assert states[1].last_escalation_at is not None
    assert states[2].due_on is None and states[2].days_late == 0
    # The timeline of « siae projet chronologie » shows them.
    console = Console(record=True, width=250)
    project = session.get(ImplantationProject, world.project_id)
    assert project is not None
    console.print(timeline_table(session, cfg, project, DUE + timedelta(days=16)))
    shown = console.export_text()
    assert "Rappels, relances" in shown and "3 relance(s) (n° 3 le " in shown


def test_a_missed_fortnight_sends_one_escalation_not_three(
    session: Session, cfg: ProcessConfig, settings: Settings, world: World, mail_sink: MailSink
) -> None:
    sent = _sweep(session, cfg, settings, DUE + timedelta(days=22))
    assert len(sent) == 1
    assert "Relance n° 4" in mail_sink.mails[0].subject


def test_escalations_stop_when_the_stage_is_validated(
    session: Session, cfg: ProcessConfig, settings: Settings, world: World, mail_sink: MailSink
) -> None:
    assert len(_sweep(session, cfg, settings, DUE + timedelta(days=1))) == 1
    approved_on = DUE + timedelta(days=3)
    factories.stage_work(session, cfg, world.project_id, 1)
    outcome = decide(
        session,
        cfg,
        world.project_id,
        DecisionRequest(stage=1, decision=Decision.APPROVE, approver_id=world.people["lead"]),
        approved_on,
    )
    assert outcome.accepted, outcome.problems
    session.commit()
    for late in (8, 15, 22):
        assert _sweep(session, cfg, settings, DUE + timedelta(days=late)) == []
    # Stage 2 now runs on its own clock.
    due_2 = _due(session, world, 2)
    assert due_2 > approved_on
    sent = _sweep(session, cfg, settings, due_2 + timedelta(days=1))
    assert [(r.kind, r.stage) for r in sent] == [("relance", 2)]
    assert len(mail_sink.mails) == 2


def test_nothing_for_an_abandoned_project(
    session: Session, cfg: ProcessConfig, settings: Settings, world: World, mail_sink: MailSink
) -> None:
    abandon(session, world.project(session), "Locaux indisponibles", SYSTEM)
    session.commit()
    assert deadline_actions(session, cfg, DUE + timedelta(days=1)) == []
    assert _sweep(session, cfg, settings, DUE) == []
    assert mail_sink.mails == []


def test_a_reopened_stage_gets_fresh_reminders(
    session: Session, cfg: ProcessConfig, settings: Settings, world: World, mail_sink: MailSink
) -> None:
    first = reminder_date(DUE, cfg.calendar, "69")
    assert len(_sweep(session, cfg, settings, first)) == 1
    assert len(_sweep(session, cfg, settings, DUE + timedelta(days=1))) == 1
    factories.stage_work(session, cfg, world.project_id, 1)
    decide(
        session,
        cfg,
        world.project_id,
        DecisionRequest(stage=1, decision=Decision.APPROVE, approver_id=world.people["lead"]),
        DUE + timedelta(days=2),
    )
    # Stage 2 is sent back to stage 1 by the DREETS: stage 1 reopens with a new due date (attempt 2).
    outcome = decide(
        session,
        cfg,
        world.project_id,
        DecisionRequest(
            stage=2,
            decision=Decision.SEND_BACK,
            approver_id=world.people["dreets"],
            reason="Les locaux ne sont plus disponibles",
            target_stage=1,
        ),
        DUE + timedelta(days=10),
    )
    assert outcome.accepted, outcome.problems
    session.commit()
    record = get_stage(session, world.project_id, 1)
    assert record.attempt == 2
    new_due = _due(session, world)
    sent = _sweep(session, cfg, settings, reminder_date(new_due, cfg.calendar, "69"))
    assert [(r.kind, r.stage) for r in sent] == [("rappel", 1)]
    assert sent[0].dedup_key.endswith(":1:2:rappel:0")
    state = deadline_state(session, world.project_id, new_due)[0]
    assert (state.attempt, state.reminders_sent, state.escalations_sent) == (2, 1, 0)


def test_restart_on_the_same_database_sends_nothing_new(
    engine: Engine,
    db_url: str,
    session: Session,
    cfg: ProcessConfig,
    settings: Settings,
    world: World,
    mail_sink: MailSink,
) -> None:
    today = DUE + timedelta(days=1)
    assert len(_sweep(session, cfg, settings, today)) == 1
    session.close()
    engine.dispose()

    restarted = make_engine(db_url)
    try:
        with Session(restarted) as fresh:
            assert deadline_actions(fresh, cfg, today) == []
            assert _sweep(fresh, cfg, settings, today) == []
            assert len(fresh.exec(select(NotificationRecord)).all()) == 1
    finally:
        restarted.dispose()
    assert len(mail_sink.mails) == 1


def test_smtp_down_reports_and_retries_next_sweep(
    session: Session,
    cfg: ProcessConfig,
    settings: Settings,
    dead_settings: Settings,
    world: World,
    mail_sink: MailSink,
) -> None:
    today = DUE + timedelta(days=1)
    report = sweep_deadlines(session, cfg, dead_settings, today)
    assert report.sent == []
    [(action, message)] = report.failures
    assert action.kind == MailKind.ESCALATION and "connexion refusée" in message
    with pytest.raises(
        DeadlineSweepError, match="1 courriel\\(s\\) d'échéance non envoyé\\(s\\), 0 envoyé\\(s\\)"
    ):
        run_deadline_sweep(session, cfg, dead_settings, today)
    session.commit()
    assert session.exec(select(NotificationRecord)).all() == []
    assert len(_sweep(session, cfg, settings, today)) == 1
    assert len(mail_sink.mails) == 1


@dataclass
class RefusingSink(MailSink):
    """A real SMTP server that refuses, at DATA, the messages containing ``refuse``."""

    refuse: bytes = b""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse and self.refuse in envelope.original_content:
            return "554 5.0.0 Message refusé"
        return await super().handle_DATA(server, session, envelope)


def test_a_partial_failure_keeps_what_went_out_and_retries_only_the_rest(
    session: Session, cfg: ProcessConfig, world: World, tmp_path: Path
) -> None:
    other = create_project(
        session, cfg, world.establishment_id, world.people["lead"], date(2026, 1, 5), SYSTEM
    )
    session.commit()
    sink = RefusingSink(port=free_port(), refuse=other.reference.encode())
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port)
    controller.start()
    try:
        settings = make_settings(tmp_path, sink.port)
        today = DUE + timedelta(days=1)
        with pytest.raises(DeadlineSweepError) as failed:
            run_deadline_sweep(session, cfg, settings, today)
        assert "1 courriel(s) d'échéance non envoyé(s), 1 envoyé(s)" in str(failed.value)
        assert f"projet {other.id}, étape 1" in str(failed.value)
        assert [r.project_id for r in failed.value.sent] == [world.project_id]
        session.rollback()  # even if the caller's transaction is lost, what went out stays recorded
        assert [r.project_id for r in session.exec(select(NotificationRecord))] == [world.project_id]
        assert len(sink.mails) == 1

        sink.refuse = b""
        retried = _sweep(session, cfg, settings, today)
        assert [r.project_id for r in retried] == [other.id]
        assert len(sink.mails) == 2
        assert _sweep(session, cfg, settings, today) == []
    finally:
        controller.stop()
