"""What one e-mail costs the database, and the row ``send_once`` hands back, on SQLite and PostgreSQL.

A stage transition sends several e-mails from each run: every statement saved here is saved thousands
of times under the national load, so the claim and its settlement are pinned to one write each.
"""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from mailsink import MailSink, World, leave_stale_claim
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from implantation.db.models import NotificationRecord
from implantation.db.session import has_uncommitted_writes, session_scope
from implantation.notifications.mailer import MailKind, send_composed_once
from implantation.settings import Settings

RECIPIENTS = ["lead@exemple.test", "ep@exemple.test"]


@pytest.fixture
def db_url(fresh_url: str) -> str:
    """SQLite and PostgreSQL: the returned row must match what each database stored."""
    return fresh_url


def _send(session: Session, settings: Settings, world: World) -> NotificationRecord | None:
    return send_composed_once(
        session,
        settings,
        project_id=world.project_id,
        stage=1,
        kind=MailKind.STAGE_OPENED,
        dedup_key="ouverture:1:1",
        recipients=RECIPIENTS,
        compose=lambda: ("Étape 1 ouverte", "Bonjour,\n"),
    )


def _stored(engine: Engine) -> list[tuple[object, ...]]:
    with Session(engine) as other:
        rows = other.exec(select(NotificationRecord)).all()
        return [(r.id, r.dedup_key, r.recipients, r.pending, _utc(r.sent_at)) for r in rows]


def _utc(moment: datetime) -> datetime:
    """SQLite gives naive UTC; PostgreSQL gives an aware time in the session's zone, which may not be UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _returned(record: NotificationRecord | None) -> list[tuple[object, ...]]:
    assert record is not None
    return [(record.id, record.dedup_key, record.recipients, record.pending, record.sent_at)]


def test_a_mail_writes_its_claim_then_its_settlement_and_reads_nothing_back(
    engine: Engine, session: Session, settings: Settings, world: World, mail_sink: MailSink
) -> None:
    project = world.project(session)  # held by the caller, as a task holds its project
    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(" ".join(statement.split()[:3]))

    event.listen(engine, "before_cursor_execute", count)
    try:
        record = _send(session, settings, world)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert [s.split()[0] for s in statements] == ["SELECT", "INSERT", "UPDATE"], statements
    assert len(mail_sink.mails) == 1
    assert _returned(record) == _stored(engine)
    assert record in session and not has_uncommitted_writes(session)
    assert project.id == world.project_id


def test_a_stale_claim_taken_over_comes_back_as_stored(
    engine: Engine, session: Session, settings: Settings, world: World, mail_sink: MailSink
) -> None:
    claimed_at = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)
    leave_stale_claim(session, world.project_id, claimed_at, recipients="ancien@exemple.test")
    with time_machine.travel(claimed_at + timedelta(minutes=5), tick=False):
        record = _send(session, settings, world)
    assert len(mail_sink.mails) == 1
    assert _returned(record) == _stored(engine)
    assert _returned(record)[0][2:] == (", ".join(RECIPIENTS), False, claimed_at + timedelta(minutes=5))
    assert not has_uncommitted_writes(session)


def test_a_caller_that_committed_sends_on_one_connection(
    engine: Engine, settings: Settings, world: World, mail_sink: MailSink
) -> None:
    """A stage task commits before it sends: its mail then reads, claims and settles on one connection of
    the pool, not two (on PostgreSQL each new connection is a server process of its own)."""
    held = {"now": 0, "most": 0}

    def checkout(*_args: object) -> None:
        held["now"] += 1
        held["most"] = max(held["most"], held["now"])

    def checkin(*_args: object) -> None:
        held["now"] -= 1

    with session_scope(engine) as session:  # a task's unit of work
        project = world.project(session)  # held, as a task holds its project
        session.commit()  # as tasks.notify does before each mail
        event.listen(engine, "checkout", checkout)
        event.listen(engine, "checkin", checkin)
        try:
            record = _send(session, settings, world)
        finally:
            event.remove(engine, "checkout", checkout)
            event.remove(engine, "checkin", checkin)
    assert record is not None and len(mail_sink.mails) == 1 and project.id == world.project_id
    assert held == {"now": 0, "most": 1}
