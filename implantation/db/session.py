"""Engine and session factory; one place decides SQLite pragmas and PostgreSQL options."""

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL; None for an in-memory SQLite database or another database."""
    if not url.startswith("sqlite") or "///" not in url:
        return None
    path = url.split("///", 1)[-1]
    return Path(path) if path and path != ":memory:" else None


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        if (path := sqlite_file(url)) is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.close()

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, pool_pre_ping=True)


UNCOMMITTED = "siae_uncommitted_writes"


@event.listens_for(Session, "after_flush")
def _mark_written(session: Session, _context: Any) -> None:
    session.info[UNCOMMITTED] = True


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _mark_settled(session: Session) -> None:
    session.info.pop(UNCOMMITTED, None)


def has_uncommitted_writes(session: Session) -> bool:
    """Writes flushed or pending in ``session`` since its last commit or rollback.

    For the functions that write through a connection of their own and must not decide, behind their
    caller's back, when the caller's transaction ends (see ``notifications.mailer.send_once``).
    """
    pending = session.new or session.deleted or any(session.is_modified(obj) for obj in session.dirty)
    return bool(pending) or bool(session.info.get(UNCOMMITTED))


@lru_cache
def get_engine(url: str | None = None) -> Engine:
    if url is None:
        from implantation.settings import get_settings

        url = get_settings().effective_database_url
    return make_engine(url)


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """One unit of work: commit on success, roll back everything on any error."""
    with Session(engine or get_engine(), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
