"""The test and demo environment of a local Prefect server and runner (child processes).

The processes themselves are started by the production launcher (:mod:`flows.runtime.launcher`); the
harness only isolates them: every ``PREFECT_*`` variable of the developer's shell is dropped, so that a
test never talks to another server nor writes under another ``PREFECT_HOME``. Production keeps the
operator's settings (``make serve``); tests and the demo do not.
"""

import os
from collections.abc import Mapping
from pathlib import Path

from flows.harness import prefect_db
from flows.runtime.launcher import (
    DEPLOYMENT_NAMES,
    LaunchError,
    Service,
    Stack,
    auth_headers,
    free_port,
    runtime_defaults,
    spawn,
    start_runner,
    start_server,
    wait_deployments,
    wait_healthy,
)

ROOT = Path(__file__).resolve().parent.parent.parent
# The names the tests, the demo and the benchmarks have always used.
LocalServiceError = LaunchError
LocalStack = Stack
__all__ = [
    "DEPLOYMENT_NAMES",
    "LocalServiceError",
    "LocalStack",
    "Service",
    "auth_headers",
    "free_port",
    "spawn",
    "start_runner",
    "start_server",
    "wait_deployments",
    "wait_healthy",
]


def prefect_env(
    prefect_home: Path,
    port: int,
    *,
    host: str = "127.0.0.1",
    database_url: str | None = None,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Environment of every Prefect process of one isolated installation (server, runner, runs, clients)."""
    prefect_home.mkdir(parents=True, exist_ok=True)
    if database_url is None:
        prefect_db.seed(prefect_home / "prefect.db")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    url = f"http://{host}:{port}"
    env.update(
        {
            "PREFECT_HOME": str(prefect_home),
            "PREFECT_API_URL": f"{url}/api",
            "PREFECT_UI_URL": url,
            "PREFECT_UI_API_URL": f"{url}/api",
            "PREFECT_SERVER_API_HOST": host,
            "PREFECT_SERVER_API_PORT": str(port),
            "PREFECT_LOCAL_STORAGE_PATH": str(prefect_home / "resultats"),
            "PREFECT_API_DATABASE_CONNECTION_URL": database_url
            or f"sqlite+aiosqlite:///{prefect_home / 'prefect.db'}",
            # The approval e-mails link to this UI.
            "SIAE_PREFECT_UI_URL": url,
        }
    )
    if "PREFECT_RUNNER_PROCESS_LIMIT" in os.environ:  # the benchmarks vary it
        env["PREFECT_RUNNER_PROCESS_LIMIT"] = os.environ["PREFECT_RUNNER_PROCESS_LIMIT"]
    env.update(runtime_defaults(env))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    if extra:
        env.update(extra)
    return env


def application_env(database_url: str, data_dir: Path, smtp_host: str, smtp_port: int) -> dict[str, str]:
    """What the runner and its flow runs need to reach the application: its database, files and SMTP."""
    return {
        "SIAE_DATABASE_URL": database_url,
        "SIAE_DATA_DIR": str(data_dir),
        "SIAE_SMTP_HOST": smtp_host,
        "SIAE_SMTP_PORT": str(smtp_port),
        "SIAE_SMTP_STARTTLS": "false",
        # Without SIAE_SECRET_KEY, the decision codes use a key generated once under the data directory, and
        # the scenario's date (SIAE_TODAY) is accepted: the test suite's mode, or the demonstration's.
        "SIAE_MODE": "test" if os.environ.get("SIAE_MODE") == "test" else "demo",
    }


def _parents() -> dict[int, int]:
    """Parent of every process, from /proc (Linux)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    return parents


def children(pid: int, parents: dict[int, int] | None = None) -> list[int]:
    """Every descendant of a process (``parents``: one reading of /proc, to reuse)."""
    by_parent: dict[int, list[int]] = {}
    for child, parent in (parents or _parents()).items():
        by_parent.setdefault(parent, []).append(child)
    out: list[int] = []
    todo = [pid]
    while todo:
        for child in by_parent.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def cmdline(pid: int) -> str:
    try:
        return (
            (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        )
    except OSError:
        return ""


def flow_processes(runner_pid: int) -> list[int]:
    """Flow-run processes of a runner: children forked by its forkserver (see :mod:`flows.runtime.warm_start`),
    spawned children (``spawn_main``) or ``prefect.engine`` commands. The forkserver itself, which
    runs no flow, is not one."""
    parents = _parents()
    found = []
    for pid in children(runner_pid, parents):
        command = cmdline(pid)
        forked = "multiprocessing.forkserver" in cmdline(parents.get(pid, 0))
        if forked or "spawn_main" in command or "prefect.engine" in command:
            found.append(pid)
    return found


def forkserver_processes(runner_pid: int) -> list[int]:
    """The runner's forkserver (one, or none before it started)."""
    parents = _parents()
    return [
        pid
        for pid in children(runner_pid, parents)
        if "multiprocessing.forkserver" in cmdline(pid)
        and "multiprocessing.forkserver" not in cmdline(parents.get(pid, 0))
    ]


def rss_bytes(pid: int) -> int:
    try:
        for line in (Path("/proc") / str(pid) / "status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def tree_rss_bytes(pid: int) -> int:
    return rss_bytes(pid) + sum(rss_bytes(child) for child in children(pid))
