"""Two runs sending the same notification at once, and other writers while the SMTP server talks.

The SMTP server below holds each message until the test lets it go: the first ``send_once`` is then
mid-exchange, which is when a lock held on the database would block everyone else.
"""

import asyncio
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from aiosmtpd.controller import Controller
from mailsink import MailSink, free_port, leave_stale_claim, make_settings, make_world
from postgres_server import DATABASES, require_postgres
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, select

from implantation.config.schema import ProcessConfig
from implantation.db.models import ImplantationProject, NotificationRecord
from implantation.db.session import make_engine
from implantation.notifications.context import stage_opened_context
from implantation.notifications.mailer import MailKind, NotificationConflict, send_once
from implantation.settings import Settings


class HeldSink(MailSink):
    """Accepts each message only once ``release`` is set; ``receiving`` tells that one has arrived."""

    def __init__(self, port: int) -> None:
        super().__init__(port=port)
        self.receiving = threading.Event()
        self.release = threading.Event()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.receiving.set()
        await asyncio.get_running_loop().run_in_executor(None, self.release.wait, 60)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def held_sink() -> Iterator[HeldSink]:
    sink = HeldSink(free_port())
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port)
    controller.start()
    try:
        yield sink
    finally:
        sink.release.set()
        controller.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def both_engines(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Engine, Engine]]:
    """The application's engine, and one whose writes give up after half a second instead of waiting."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'race.db'}"
        engine = make_engine(url)
        SQLModel.metadata.create_all(engine)
        impatient = create_engine(url, connect_args={"timeout": 0.5})
        yield engine, impatient
        impatient.dispose()
        engine.dispose()
        return
    require_postgres()
    name = DATABASES.create("siae_notif")
    engine = make_engine(DATABASES.url(name))
    SQLModel.metadata.create_all(engine)
    impatient = make_engine(DATABASES.url(name))
    try:
        yield engine, impatient
    finally:
        impatient.dispose()
        engine.dispose()
        DATABASES.drop(name)


def _send(session: Session, settings: Settings, cfg: ProcessConfig, project_id: int) -> Any:
    project = session.get_one(ImplantationProject, project_id)
    return send_once(
        session,
        settings,
        project_id=project_id,
        stage=1,
        kind=MailKind.STAGE_OPENED,
        dedup_key="ouverture:1:1",
        recipients=["lead@exemple.test"],
        context=stage_opened_context(session, cfg, project, 1),
    )


def test_no_lock_is_held_while_the_smtp_server_talks_and_a_concurrent_resume_sends_nothing(
    both_engines: tuple[Engine, Engine], held_sink: HeldSink, cfg: ProcessConfig, tmp_path: Path
) -> None:
    engine, impatient = both_engines
    settings = make_settings(tmp_path, held_sink.port)
    with Session(engine, expire_on_commit=False) as setup:
        project_id = make_world(setup, cfg).project_id
    outcome: dict[str, Any] = {}

    def first_run() -> None:
        try:
            with Session(engine) as session:
                outcome["record"] = _send(session, settings, cfg, project_id)
                session.commit()
        except BaseException as exc:  # reported below
            outcome["error"] = exc

    thread = threading.Thread(target=first_run)
    thread.start()
    try:
        assert held_sink.receiving.wait(60), "le premier envoi n'a jamais atteint le serveur SMTP"
        # Mid-exchange: another writer goes through at once (it gave up after 0.5 s while a lock was held).
        with impatient.begin() as conn:
            conn.execute(
                text("UPDATE implantation_project SET activity = 'Tri' WHERE id = :id"), {"id": project_id}
            )
        # A concurrent resume of the same notification sends nothing.
        with Session(engine) as second, pytest.raises(NotificationConflict, match="rien n'a été envoyé"):
            _send(second, settings, cfg, project_id)
    finally:
        held_sink.release.set()
        thread.join(60)
    assert "error" not in outcome, outcome
    assert outcome["record"] is not None
    assert len(held_sink.mails) == 1
    with Session(engine) as check:
        rows = check.exec(select(NotificationRecord)).all()
    assert [(r.dedup_key, r.pending) for r in rows] == [("ouverture:1:1", False)]


def test_a_crashed_senders_claim_is_taken_over_once_stale(
    session: Session, settings: Settings, cfg: ProcessConfig, mail_sink: MailSink
) -> None:
    """A claim left pending by a process killed mid-exchange: fresh, it blocks a resend; stale, it is resent."""
    project_id = make_world(session, cfg).project_id
    claimed_at = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)
    leave_stale_claim(session, project_id, claimed_at)
    fresh = time_machine.travel(claimed_at + timedelta(seconds=10), tick=False)
    with fresh, pytest.raises(NotificationConflict):
        _send(session, settings, cfg, project_id)
    assert mail_sink.mails == []
    with time_machine.travel(claimed_at + timedelta(minutes=5), tick=False):
        record = _send(session, settings, cfg, project_id)
    assert record is not None and not record.pending
    assert len(mail_sink.mails) == 1
    session.expire_all()
    assert len(session.exec(select(NotificationRecord)).all()) == 1
    assert _send(session, settings, cfg, project_id) is None
