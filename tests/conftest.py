"""Shared fixtures: the shipped configuration and a migrated database on SQLite *and* PostgreSQL.

Every test that asks for ``engine`` or ``session`` runs once per backend. PostgreSQL tests
create their own uniquely named database and drop it afterwards; without a reachable server
they are skipped with the reason, except under CI=true where that is a failure.
"""

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

import implantation.db.models  # noqa: F401  (registers every table)
from implantation.config.loader import load_process_config
from implantation.config.schema import ProcessConfig
from implantation.db.migrate import upgrade
from implantation.db.session import make_engine
from implantation.settings import PROJECT_ROOT

PG_ADMIN = os.environ.get("SIAE_TEST_POSTGRES", "host=127.0.0.1 port=5432 user=postgres dbname=postgres")


@pytest.fixture(scope="session")
def cfg() -> ProcessConfig:
    return load_process_config(PROJECT_ROOT / "config")


def _admin() -> psycopg.Connection:
    return psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3)


@pytest.fixture(scope="session")
def postgres_available() -> None:
    try:
        with _admin() as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        reason = f"PostgreSQL injoignable ({PG_ADMIN}) : {str(exc).strip().splitlines()[0]}"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} — en CI (CI=true), les tests PostgreSQL doivent s'exécuter.")
        pytest.skip(reason)


class Databases:
    """Creates empty databases for one backend and removes them at the end."""

    def __init__(self, backend: str, folder: Path) -> None:
        self.backend = backend
        self.folder = folder
        self.created: list[str] = []

    def new(self) -> str:
        name = f"siae_test_{uuid.uuid4().hex[:12]}"
        self.created.append(name)
        if self.backend == "sqlite":
            return f"sqlite:///{self.folder / (name + '.db')}"
        with _admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        params = conninfo_to_dict(PG_ADMIN)
        host, port, user = (
            params.get("host", "127.0.0.1"),
            params.get("port", "5432"),
            params.get("user", "postgres"),
        )
        return f"postgresql://{user}@{host}:{port}/{name}"

    def drop_all(self) -> None:
        if self.backend != "postgresql":
            return
        with _admin() as conn:
            for name in self.created:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def databases(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Databases]:
    if request.param == "postgresql":
        request.getfixturevalue("postgres_available")
    dbs = Databases(request.param, tmp_path_factory.mktemp(request.param))
    yield dbs
    dbs.drop_all()


@pytest.fixture
def backend(databases: Databases) -> str:
    return databases.backend


@pytest.fixture
def fresh_url(databases: Databases) -> str:
    """An empty database (no schema) on the current backend."""
    return databases.new()


@pytest.fixture(scope="session")
def migrated_url(databases: Databases) -> str:
    url = databases.new()
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


def _empty(engine: Engine) -> None:
    tables = [t.name for t in reversed(SQLModel.metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for name in tables:
                conn.execute(text(f'DELETE FROM "{name}"'))


@pytest.fixture
def engine(migrated_url: str) -> Iterator[Engine]:
    """The migrated database of the backend, emptied after each test (ids restart at 1)."""
    eng = make_engine(migrated_url)
    yield eng
    _empty(eng)
    eng.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as s:
        yield s


def count_rows(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            table.name: conn.execute(text(f'SELECT COUNT(*) FROM "{table.name}"')).scalar_one()
            for table in SQLModel.metadata.sorted_tables
        }


@pytest.fixture
def row_counts(engine: Engine) -> Callable[[], dict[str, int]]:
    return lambda: count_rows(engine)
