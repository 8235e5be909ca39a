"""What the load benchmarks share: a sandbox on SQLite or PostgreSQL, implantations started and waiting
at their first gate, the stage work their approval requires, and the moments read from Prefect's records.

With ``--postgresql`` both the Prefect server and the application use PostgreSQL, as in production, in
databases created for the run and dropped after it (stage runs are named after project ids, which
restart at 1).
"""

import os
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path

import psycopg

from flows.harness.api import PrefectApi
from flows.harness.local import auth_headers, children
from flows.harness.sandbox import Sandbox, sandbox
from implantation.config.loader import demo_config
from implantation.db.models import Establishment, Person
from implantation.db.session import session_scope
from implantation.db.throwaway import ThrowawayDatabases
from implantation.services import choices

START = "demarrer-implantation/demarrer-implantation"


class Unreachable(RuntimeError):
    """PostgreSQL could not be reached; French message."""


@contextmanager
def bench_sandbox(
    postgresql: str | None, today: date | None = None, demo_amounts: bool = False
) -> Iterator[tuple[Sandbox, str]]:
    """The sandbox (stack not started) and the name of the database backend; ``today``: the runner's date;
    ``demo_amounts``: the demonstration amounts the stage-5 documents need (``SIAE_CONFIG_DIR`` of the runner).

    SIGTERM ends the benchmark through its ``finally`` blocks: the stack is stopped, the databases dropped.
    """
    signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(143))
    server = ThrowawayDatabases(postgresql) if postgresql else None
    created: list[str] = []
    base = Path(tempfile.mkdtemp(prefix="siae-bench-"))
    try:
        if server:
            try:
                created += [server.create("siae_bench_prefect"), server.create("siae_bench_app")]
            except psycopg.Error as exc:
                raise Unreachable(
                    f"PostgreSQL injoignable ({postgresql}) : {str(exc).strip().splitlines()[0]}"
                ) from exc
        app_url = server.url(created[1]) if server else f"sqlite:///{base / 'siae.db'}"
        prefect_url = server.url(created[0], "postgresql+asyncpg") if server else None
        extra = {"SIAE_CONFIG_DIR": str(demo_config(base / "config"))} if demo_amounts else None
        with sandbox(
            base, app_url, base / "data", prefect_database_url=prefect_url, today=today, extra=extra
        ) as box:
            yield box, "PostgreSQL" if server else "SQLite"
    finally:
        if server and created:
            server.drop(*created)


def start_form(box: Sandbox) -> dict[str, str]:
    """The start form as a lead fills it: establishment and lead picked from the lists."""
    with session_scope(box.engine) as session:
        site, lead = (
            session.get(Establishment, box.ids.establishment_id),
            session.get(Person, box.ids.lead_id),
        )
        assert site is not None and lead is not None
        return {
            "etablissement": choices.establishment_label(site),
            "chef_de_projet": choices.lead_label(lead),
        }


def start_waiting(box: Sandbox, count: int, width: int, advance: Callable[[], None]) -> list[str]:
    """Starts ``count`` implantations, ``width`` at a time, and returns their stage-1 runs once each waits
    at its gate, in project order (project ids 1..count)."""
    form = start_form(box)
    headers = auth_headers(box.stack.env)

    def one(_n: int) -> None:
        api = PrefectApi(box.stack.api_url, timeout=120, headers=headers)
        try:
            run = api.run_deployment(START, form)
            api.wait_state(run, {"COMPLETED"}, timeout=900)
        finally:
            api.close()
        advance()

    with ThreadPoolExecutor(max_workers=max(1, width)) as pool:
        list(pool.map(one, range(count)))
    runs = []
    for projet_id in range(1, count + 1):
        runs.append(box.api.stage_run(projet_id, 1, timeout=300))
        box.api.wait_state(runs[-1], {"PAUSED"}, timeout=900)
    return runs


def entered(api: PrefectApi, flow_run_id: str, state_type: str, after: float) -> float | None:
    """When the run entered that state for the first time after ``after`` (Prefect's own timestamps)."""
    times = [
        datetime.fromisoformat(state["timestamp"].replace("Z", "+00:00")).timestamp()
        for state in api.get(f"/flow_run_states/?flow_run_id={flow_run_id}")
        if state["type"] == state_type
    ]
    later = [t for t in times if t >= after]
    return min(later) if later else None


def until(predicate: Callable[[], bool], timeout: float, poll: float = 0.5) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(poll)
    return False


def cpu_seconds(pid: int) -> float:
    """CPU time of a process and of its descendants, living and reaped (Linux)."""
    total = 0.0
    for one in [pid, *children(pid)]:
        try:
            fields = (Path("/proc") / str(one) / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(v) for v in fields[11:15]) / os.sysconf("SC_CLK_TCK")  # utime, stime, cutime, cstime
    return total


def postgres_pid(url: str) -> int | None:
    """The PostgreSQL server's main process, when it runs on this machine and its processes are visible:
    its CPU time (``cpu_seconds``) then counts every connection, ended ones included."""
    try:
        with psycopg.connect(url, connect_timeout=3) as conn:  # read while the connection's process lives
            row = conn.execute("SELECT pg_backend_pid()").fetchone()
            status = (Path("/proc") / str(row[0] if row else 0) / "status").read_text()
    except (psycopg.Error, OSError) as exc:
        warn(f"CPU de PostgreSQL non mesuré : {exc}")
        return None
    parent = next((line.split()[1] for line in status.splitlines() if line.startswith("PPid:")), None)
    return int(parent) if parent else None


def load_average() -> str:
    try:
        one, five, fifteen = Path("/proc/loadavg").read_text().split()[:3]
    except OSError:
        return "inconnue"
    return f"{one} / {five} / {fifteen}".replace(".", ",")


def machine_speed(repeats: int = 3) -> float:
    """CPU seconds of a fixed pure-Python loop (10^7 additions), the best of ``repeats``.

    The shared VM does not run at one speed: 190 projects took 21.5 min at midnight and 10.7 min three
    hours later, with one patch of a few per cent between the two. This fixed work, printed beside a
    measure, tells which machine it ran on.
    """
    best = float("inf")
    for _ in range(repeats):
        started = time.process_time()
        total = 0
        for i in range(10_000_000):
            total += i
        best = min(best, time.process_time() - started)
    return best


def warn(message: str) -> None:
    print(message, file=sys.stderr)
