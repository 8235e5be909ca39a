"""Approval latency and memory held while implantations wait, on a local Prefect server and runner.

``python -m benchmarks.approval_latency [--attentes 20] [--mesures 10] [--postgresql URL]``

The Prefect server keeps its state in SQLite by default (the embedded set-up); ``--postgresql
postgresql://postgres@127.0.0.1:5432`` measures the production set-up instead, in a database created
for the run and dropped after it (stage runs are named after project ids, which restart at 1).

* memory: RSS of the Prefect server and of the runner (with its forkserver and any flow process),
  idle and then with N implantations waiting at their first gate (suspended: no process per run);
* latency: from the resume call to (a) the resumed run running again, (b) the decision recorded with
  the next stage open in the application database (the record of truth), and (c) the next stage's
  own run running, median and maximum over the measured approvals (sequential, as people click).
"""

import statistics
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url
from sqlmodel import select

from flows.api import PrefectApi
from flows.local import LocalStack, application_env, flow_processes, free_port, prefect_env, tree_rss_bytes
from flows.scenario import gate
from flows.smtp_sink import SmtpSink
from implantation.cli.common import FrenchArgumentParser
from implantation.db.migrate import upgrade_to_head
from implantation.db.models import StageRecord
from implantation.db.session import make_engine, session_scope
from implantation.enums import StageStatus
from implantation.samples import seed

MB = 1024 * 1024


def _until(predicate, timeout: float = 120, poll: float = 0.05) -> float:  # type: ignore[no-untyped-def]
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if predicate():
            return time.monotonic()
        time.sleep(poll)
    raise TimeoutError("délai dépassé")


@dataclass
class TemporaryDatabase:
    """A database of its own for the Prefect server, on a PostgreSQL server given by URL."""

    admin: str
    name: str
    url: str

    @classmethod
    def create(cls, server_url: str) -> "TemporaryDatabase":
        server = make_url(server_url)
        admin = server.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
        name = f"siae_bench_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = server.set(drivername="postgresql+asyncpg", database=name).render_as_string(hide_password=False)
        return cls(admin, name, url)

    def drop(self) -> None:
        with psycopg.connect(self.admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def _stage_open(engine, projet_id: int, stage: int) -> bool:  # type: ignore[no-untyped-def]
    with session_scope(engine) as session:
        record = session.exec(
            select(StageRecord).where(StageRecord.project_id == projet_id, StageRecord.stage == stage)
        ).one()
        return record.status == StageStatus.OPEN


def _memory(stack: LocalStack) -> tuple[float, float, int]:
    server, runner = stack.service("serveur-prefect"), stack.service("runner")
    return tree_rss_bytes(server.pid) / MB, tree_rss_bytes(runner.pid) / MB, len(flow_processes(runner.pid))


def main(argv: list[str] | None = None) -> int:
    parser = FrenchArgumentParser(description="Latence d'approbation et mémoire en attente.")
    parser.add_argument("--attentes", type=int, default=20, help="Implantations en attente simultanée")
    parser.add_argument("--mesures", type=int, default=10, help="Approbations mesurées (≤ attentes)")
    parser.add_argument(
        "--postgresql",
        default=None,
        help="Serveur PostgreSQL pour la base du serveur Prefect, ex. postgresql://postgres@127.0.0.1:5432 "
        "(une base temporaire y est créée) ; SQLite par défaut",
    )
    args = parser.parse_args(argv)

    prefect_db = TemporaryDatabase.create(args.postgresql) if args.postgresql else None
    base = Path(tempfile.mkdtemp(prefix="siae-bench-"))
    url = f"sqlite:///{base / 'siae.db'}"
    upgrade_to_head(url)
    engine = make_engine(url)
    with session_scope(engine) as session:
        ids = seed(session)
    sink = SmtpSink().start()
    env = prefect_env(
        base / "prefect",
        free_port(),
        database_url=prefect_db.url if prefect_db else None,
        extra=application_env(url, base / "data", sink.host, sink.port),
    )
    stack = LocalStack(env, base / "logs")
    api = PrefectApi(stack.api_url)
    try:
        stack.start(schedules=False)
        time.sleep(3)
        idle = _memory(stack)
        starts = [
            api.run_deployment(
                "demarrer-implantation/demarrer-implantation",
                {"etablissement_id": ids.establishment_id, "chef_de_projet_id": ids.lead_id},
            )
            for _ in range(args.attentes)
        ]
        for run in starts:
            api.wait_state(run, {"COMPLETED"}, timeout=600)
        stage1 = [api.stage_run(projet_id, 1) for projet_id in range(1, args.attentes + 1)]
        for run in stage1:
            api.wait_state(run, {"PAUSED"}, timeout=600)
        _until(lambda: not flow_processes(stack.service("runner").pid), timeout=60)
        waiting = _memory(stack)

        resumed, recorded, next_running = [], [], []
        for projet_id, run in list(zip(range(1, args.attentes + 1), stage1, strict=True))[: args.mesures]:
            t0 = time.monotonic()
            answer = api.resume(run, gate(ids.emails["cheffe.projet.disp"]))
            assert answer["status"] == "ACCEPT", answer
            resumed.append(_until(lambda run=run: api.state(run)[0] in ("RUNNING", "COMPLETED")) - t0)
            recorded.append(_until(lambda projet_id=projet_id: _stage_open(engine, projet_id, 2)) - t0)
            nxt = api.stage_run(projet_id, 2, timeout=120)
            next_running.append(_until(lambda nxt=nxt: api.state(nxt)[0] in ("RUNNING", "PAUSED")) - t0)
            api.wait_state(nxt, {"PAUSED"}, timeout=120)
            _until(lambda: not flow_processes(stack.service("runner").pid), timeout=60)

        print(f"Base du serveur Prefect : {'PostgreSQL' if prefect_db else 'SQLite'}")
        print(
            f"Mémoire au repos : serveur {idle[0]:.0f} Mo, runner {idle[1]:.0f} Mo ({idle[2]} processus de flow)"
        )
        print(
            f"Mémoire avec {args.attentes} implantations en attente : serveur {waiting[0]:.0f} Mo, "
            f"runner {waiting[1]:.0f} Mo, {waiting[2]} processus de flow ; total {waiting[0] + waiting[1]:.0f} Mo"
        )
        print(
            f"Reprise → run repris en cours ({len(resumed)} mesures) : médiane {statistics.median(resumed):.2f} s, "
            f"max {max(resumed):.2f} s"
        )
        print(
            f"Reprise → décision enregistrée, étape suivante ouverte en base : "
            f"médiane {statistics.median(recorded):.2f} s, max {max(recorded):.2f} s"
        )
        print(
            f"Reprise → run de l'étape suivante en cours : médiane {statistics.median(next_running):.2f} s, "
            f"max {max(next_running):.2f} s"
        )
        return 0
    finally:
        stack.stop()
        sink.stop()
        api.close()
        engine.dispose()
        if prefect_db:
            prefect_db.drop()


if __name__ == "__main__":
    raise SystemExit(main())
