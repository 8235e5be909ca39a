"""Two runs sending the same notification at once, on PostgreSQL where writers really overlap."""

import threading
import time
from collections.abc import Iterator

import pytest
from mailsink import MailSink, make_world
from postgres_server import DATABASES, require_postgres
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, select

from implantation.config.schema import ProcessConfig
from implantation.db.models import NotificationRecord
from implantation.db.session import make_engine
from implantation.notifications.context import stage_opened_context
from implantation.notifications.mailer import MailKind, NotificationConflict, send_once
from implantation.settings import Settings

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_engine() -> Iterator[Engine]:
    require_postgres()
    name = DATABASES.create("siae_notif")
    engine = make_engine(DATABASES.url(name))
    SQLModel.metadata.create_all(engine)
    try:
        yield engine
    finally:
        engine.dispose()
        DATABASES.drop(name)


def _waiting_on_lock(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            ).scalar_one()
        )


def test_concurrent_resume_fails_before_sending(
    pg_engine: Engine, settings: Settings, cfg: ProcessConfig, mail_sink: MailSink
) -> None:
    with Session(pg_engine, expire_on_commit=False) as setup:
        world = make_world(setup, cfg)

    def send(session: Session) -> object:
        return send_once(
            session,
            settings,
            project_id=world.project_id,
            stage=1,
            kind=MailKind.STAGE_OPENED,
            dedup_key="ouverture:1:1",
            recipients=["lead@exemple.test"],
            context=stage_opened_context(session, cfg, world.project(session), 1),
        )

    outcome: dict[str, BaseException | object] = {}

    def second_run() -> None:
        with Session(pg_engine) as session:
            try:
                outcome["result"] = send(session)
            except BaseException as exc:
                outcome["error"] = exc
                session.rollback()

    with Session(pg_engine) as first:
        assert send(first) is not None  # flushed and sent, not yet committed
        thread = threading.Thread(target=second_run)
        thread.start()
        deadline = time.monotonic() + 20
        while _waiting_on_lock(pg_engine) == 0 and thread.is_alive():
            assert time.monotonic() < deadline, "le second envoi n'a jamais attendu le verrou"
            time.sleep(0.05)
        first.commit()
    thread.join(timeout=30)

    assert isinstance(outcome.get("error"), NotificationConflict), outcome
    assert "rien n'a été envoyé" in str(outcome["error"])
    assert len(mail_sink.mails) == 1
    with Session(pg_engine) as check:
        assert len(check.exec(select(NotificationRecord)).all()) == 1
