"""Everything an end-to-end run needs on one machine: a seeded application database, an SMTP sink, and a
Prefect server and runner ready to start. The demo, the flow tests and the latency benchmark use it, so
they exercise the same set-up."""

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy.engine import Engine

from flows.harness.api import PrefectApi
from flows.harness.local import LocalStack, application_env, auth_headers, free_port, prefect_env
from flows.harness.samples import SampleIds, seed
from flows.harness.smtp_sink import SmtpSink
from implantation.db.migrate import upgrade_to_head
from implantation.db.session import make_engine, session_scope


@dataclass
class Sandbox:
    engine: Engine
    ids: SampleIds
    sink: SmtpSink
    stack: LocalStack
    api: PrefectApi


@contextmanager
def sandbox(
    base: Path,
    database_url: str,
    data_dir: Path,
    *,
    port: int | None = None,
    prefect_database_url: str | None = None,
    log_dir: Path | None = None,
    extra: Mapping[str, str] | None = None,
    today: date | None = None,
) -> Iterator[Sandbox]:
    """The stack is not started (``sandbox.stack.start()``); everything is stopped on the way out.

    ``base`` holds Prefect's home and, unless ``log_dir`` says otherwise, the services' logs;
    ``prefect_database_url`` puts the Prefect server on PostgreSQL instead of SQLite under ``base``.
    """
    upgrade_to_head(database_url)
    engine = make_engine(database_url)
    with session_scope(engine) as session:
        ids = seed(session)
    sink = SmtpSink().start()
    env = prefect_env(
        base / "prefect",
        port or free_port(),
        database_url=prefect_database_url,
        extra={
            **application_env(database_url, data_dir, sink.host, sink.port),
            **({"SIAE_TODAY": today.isoformat()} if today else {}),
            **(extra or {}),
        },
    )
    stack = LocalStack(env, log_dir or base / "logs")
    api = PrefectApi(stack.api_url, headers=auth_headers(env))
    try:
        yield Sandbox(engine, ids, sink, stack, api)
    finally:
        stack.stop()
        sink.stop()
        api.close()
        engine.dispose()
