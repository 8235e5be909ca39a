"""Shared fixtures: the shipped configuration and a migrated database on SQLite *and* PostgreSQL.

Every test that asks for ``engine`` or ``session`` runs once per backend. PostgreSQL tests
create their own uniquely named database and drop it afterwards; without a reachable server
they are skipped with the reason, except under CI=true where that is a failure.
"""

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

# A pytest-xdist worker starts with COLUMNS=80 and LINES=24 in its environment: with both set when the
# ``siae`` commands' console is made, rich fixes its width at 80 for the whole session, and the width the
# tests give a command (COLUMNS) is ignored. A worker gets the environment of a plain ``pytest`` run.
if os.environ.get("PYTEST_XDIST_WORKER"):
    for _name in ("COLUMNS", "LINES"):
        os.environ.pop(_name, None)

import pytest
from postgres_server import DATABASES, require_postgres
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

import implantation.db.models  # noqa: F401  (registers every table)
from implantation.config.loader import demo_config, load_process_config
from implantation.config.schema import ProcessConfig
from implantation.db.migrate import upgrade
from implantation.db.session import make_engine
from implantation.settings import PROJECT_ROOT

# The test mode: the suite pins today (SIAE_TODAY) and breaks processes on purpose (SIAE_TEST_FAULT), which
# production refuses; the ``siae`` commands the tests start inherit it.
os.environ["SIAE_MODE"] = "test"

# The Prefect stack (server, runner, SMTP sink) for the flow and runtime tests.
pytest_plugins = ["tests.flow_stack"]


@pytest.fixture(scope="session")
def cfg() -> ProcessConfig:
    return load_process_config(PROJECT_ROOT / "config")


@pytest.fixture(scope="session")
def demo_config_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped configuration plus the demonstration amounts (years no text covers yet, contribution rates)."""
    return demo_config(tmp_path_factory.mktemp("config-demo"))


@pytest.fixture(scope="session")
def demo_cfg(demo_config_dir: Path) -> ProcessConfig:
    return load_process_config(demo_config_dir)


@pytest.fixture(scope="session")
def postgres_available() -> None:
    require_postgres()


class Databases:
    """Creates empty databases for one backend and removes them at the end."""

    def __init__(self, backend: str, folder: Path) -> None:
        self.backend = backend
        self.folder = folder
        self.created: list[str] = []

    def new(self) -> str:
        if self.backend == "sqlite":
            name = f"siae_test_{uuid.uuid4().hex[:12]}"
            self.created.append(name)
            return f"sqlite:///{self.folder / (name + '.db')}"
        name = DATABASES.create("siae_test")
        self.created.append(name)
        return DATABASES.url(name)

    def drop_all(self) -> None:
        if self.backend == "postgresql":
            DATABASES.drop(*self.created)


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
