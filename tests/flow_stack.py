"""A real Prefect server and runner (child processes), a real SMTP sink, and the application database.

One stack per application backend for the whole session: starting a server costs seconds, and the
tests create their own projects, so they share it. Every process gets a temporary PREFECT_HOME. With
``postgresql`` the Prefect server keeps its state in PostgreSQL too: that is the production set-up.
"""

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from postgres_server import DATABASES, require_postgres
from prefect.events.worker import EventsWorker
from prefect.logging.handlers import APILogWorker
from sqlalchemy.engine import Engine

from flows.harness.api import PrefectApi
from flows.harness.local import LocalStack
from flows.harness.samples import SampleIds
from flows.harness.sandbox import sandbox
from flows.harness.scenario import SCENARIO_TODAY, Driver
from flows.harness.smtp_sink import SmtpSink
from implantation.config.loader import demo_config, load_process_config
from implantation.config.schema import ProcessConfig


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
    prefect_database: str | None = None
    stock: bool = False  # Prefect as released: SIAE_PREFECT_TUNING=0 (see flows.runtime.tuning)

    def driver(self) -> Driver:
        return Driver(self.api, self.engine, self.cfg, self.ids, sink=self.sink, app_env=self.stack.env)

    @property
    def runner_pid(self) -> int:
        return self.stack.service("runner").pid


def _drain_prefect_workers() -> None:
    """Send the logs and events of the flows run inside pytest while their server is still up.

    Otherwise Prefect's workers try at interpreter exit, against a stopped server, and hold pytest's
    exit for about a minute (as Prefect's own ``prefect_test_harness`` drains them before it stops).
    """
    APILogWorker.drain_all(timeout=30)
    EventsWorker.drain_all(timeout=30)


# The ``flow_stack`` parameter of the end-to-end test run once on stock Prefect (SQLite).
STOCK = "sqlite-prefect-d-origine"


@contextmanager
def _started(param: str, base: Path) -> Iterator[FlowStack]:
    stock = param == STOCK
    backend = "sqlite" if stock else param
    config_dir = demo_config(base / "config")  # the scenario dates its documents two months ahead
    pg_names: list[str] = []
    prefect_url = None
    if backend == "postgresql":
        require_postgres()
        pg_names = [DATABASES.create("siae_flows"), DATABASES.create("siae_prefect")]
        url = DATABASES.url(pg_names[0])
        prefect_url = DATABASES.url(pg_names[1], "postgresql+asyncpg")
    else:
        url = f"sqlite:///{base / 'siae.db'}"
    try:
        with sandbox(
            base,
            url,
            base / "data",
            prefect_database_url=prefect_url,
            extra={
                "SIAE_CONFIG_DIR": str(config_dir),
                "SIAE_PREFECT_TUNING": "0" if stock else "1",
                # The operator's way to see each finished task in the runs' logs (the product leaves those
                # lines out): the tests count the tasks really executed from them, the one record of a
                # run that is complete once its process has exited (test_implantation_flows._executed).
                "PREFECT_LOGGING_LOGGERS_PREFECT_TASK_RUNS_LEVEL": "INFO",
            },
            today=SCENARIO_TODAY,
        ) as box:
            box.stack.start(schedules=False)
            yield FlowStack(
                backend,
                box.stack,
                box.api,
                box.sink,
                box.engine,
                load_process_config(config_dir),
                box.ids,
                base / "data",
                pg_names[1] if pg_names else None,
                stock,
            )
            _drain_prefect_workers()
    finally:
        if pg_names:
            DATABASES.drop(*pg_names)


class StackPool:
    """Each stack started once, at its first use, and kept until the session ends.

    ``flow_stack`` is a parametrized session fixture: pytest tears its instance down whenever the next test
    wants the other parameter. It groups the tests by parameter to avoid that in one process, but a
    pytest-xdist worker receives whole modules, which alternate SQLite and PostgreSQL: each switch cost a
    stack (20 to 25 s) before the pool kept them.
    """

    def __init__(self, exits: ExitStack, tmp_path_factory: pytest.TempPathFactory) -> None:
        self.exits, self.tmp_path_factory = exits, tmp_path_factory
        self.stacks: dict[str, FlowStack] = {}

    def get(self, param: str) -> FlowStack:
        if param not in self.stacks:
            base = self.tmp_path_factory.mktemp(f"prefect-{param}")
            self.stacks[param] = self.exits.enter_context(_started(param, base))
        return self.stacks[param]


@pytest.fixture(scope="session")
def stack_pool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackPool]:
    with ExitStack() as exits:
        yield StackPool(exits, tmp_path_factory)


@pytest.fixture(scope="session")
def flow_stack(request: pytest.FixtureRequest, stack_pool: StackPool) -> FlowStack:
    return stack_pool.get(getattr(request, "param", "sqlite"))
