"""A real Prefect server and runner (child processes), a real SMTP sink, and the application database.

One stack per application backend for the whole session: starting a server costs seconds, and the
tests create their own projects, so they share it. Every process gets a temporary PREFECT_HOME.
"""

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict
from sqlalchemy.engine import Engine

from flows.api import PrefectApi
from flows.local import LocalStack, application_env, free_port, prefect_env
from flows.scenario import Driver
from flows.smtp_sink import SmtpSink
from implantation.config.loader import load_process_config
from implantation.config.schema import ProcessConfig
from implantation.db.migrate import upgrade_to_head
from implantation.db.session import make_engine, session_scope
from implantation.samples import SampleIds, seed
from implantation.settings import PROJECT_ROOT

PG_ADMIN = os.environ.get("SIAE_TEST_POSTGRES", "host=127.0.0.1 port=5432 user=postgres dbname=postgres")


@dataclass
class FlowStack:
    backend: str
    stack: LocalStack
    api: PrefectApi
    sink: SmtpSink
    engine: Engine
    cfg: ProcessConfig
    ids: SampleIds
    data_dir: Path

    def driver(self) -> Driver:
        return Driver(self.api, self.engine, self.cfg, self.ids)

    @property
    def runner_pid(self) -> int:
        return self.stack.service("runner").pid


def _postgres_url() -> tuple[str, str]:
    name = f"siae_flows_{uuid.uuid4().hex[:10]}"
    try:
        with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as exc:
        reason = f"PostgreSQL injoignable ({PG_ADMIN}) : {str(exc).strip().splitlines()[0]}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    params = conninfo_to_dict(PG_ADMIN)
    url = f"postgresql://{params.get('user', 'postgres')}@{params.get('host', '127.0.0.1')}:{params.get('port', '5432')}/{name}"
    return url, name


def _drop(name: str) -> None:
    with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def flow_stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FlowStack]:
    backend = getattr(request, "param", "sqlite")
    base = tmp_path_factory.mktemp(f"prefect-{backend}")
    pg_name = None
    if backend == "postgresql":
        url, pg_name = _postgres_url()
    else:
        url = f"sqlite:///{base / 'siae.db'}"
    upgrade_to_head(url)
    engine = make_engine(url)
    with session_scope(engine) as session:
        ids = seed(session)
    sink = SmtpSink().start()
    env = prefect_env(
        base / "prefect",
        free_port(),
        extra={
            **application_env(url, base / "data", sink.host, sink.port),
            "SIAE_CONFIG_DIR": str(PROJECT_ROOT / "config"),
        },
    )
    stack = LocalStack(env, base / "logs")
    api = PrefectApi(stack.api_url)
    try:
        stack.start(schedules=False)
        yield FlowStack(
            backend,
            stack,
            api,
            sink,
            engine,
            load_process_config(PROJECT_ROOT / "config"),
            ids,
            base / "data",
        )
    finally:
        stack.stop()
        sink.stop()
        api.close()
        engine.dispose()
        if pg_name:
            _drop(pg_name)
