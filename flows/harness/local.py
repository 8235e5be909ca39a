"""Start and stop a local Prefect server and runner as child processes.

The same code serves ``python -m flows.runtime.serve``, the demo, the tests and the benchmark, so what ties
Prefect to one installation (explicit API URL, Prefect data under the project's data directory) is decided
once, here; the product's Prefect settings (v1 UI, services, batching, heartbeats, process limit) are
those of :mod:`flows.runtime.prefect_defaults`.
"""

import base64
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from flows.runtime.prefect_defaults import defaults_for

ROOT = Path(__file__).resolve().parent.parent


class LocalServiceError(RuntimeError):
    """A local service did not start; the message is French."""


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def prefect_env(
    prefect_home: Path,
    port: int,
    *,
    host: str = "127.0.0.1",
    database_url: str | None = None,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Environment of every Prefect process of one installation (server, runner, flow runs, clients)."""
    prefect_home.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(
        {
            "PREFECT_HOME": str(prefect_home),
            "PREFECT_API_URL": f"http://{host}:{port}/api",
            "PREFECT_UI_URL": f"http://{host}:{port}",
            "PREFECT_SERVER_API_HOST": host,
            "PREFECT_SERVER_API_PORT": str(port),
            "PREFECT_LOCAL_STORAGE_PATH": str(prefect_home / "resultats"),
            "PREFECT_API_DATABASE_CONNECTION_URL": database_url
            or f"sqlite+aiosqlite:///{prefect_home / 'prefect.db'}",
            "PYTHONUNBUFFERED": "1",
            # The approval e-mails link to this UI.
            "SIAE_PREFECT_UI_URL": f"http://{host}:{port}",
        }
    )
    # The product's Prefect settings (flows.runtime.prefect_defaults), the operator's value where set.
    env.update({name: os.environ.get(name, value) for name, value in defaults_for({}).items()})
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


@dataclass
class Service:
    name: str
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float = 20) -> None:
        """SIGTERM to the process group it leads, then SIGKILL if it lingers."""
        if not self.alive():
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def _spawn(name: str, command: list[str], env: Mapping[str, str], log_dir: Path) -> Service:
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}.log"
    log = log_path.open("ab")
    # A new session: stopping the service stops its children (flow runs) and nothing else.
    process = subprocess.Popen(
        command, env=dict(env), stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True
    )
    log.close()
    return Service(name, process, log_path)


def start_server(env: Mapping[str, str], log_dir: Path, timeout: float = 300) -> Service:
    """A fresh server first runs all of Prefect's migrations on its empty database: more than 90 s when
    the two cores are shared with other test runs, hence the generous timeout."""
    host = env["PREFECT_SERVER_API_HOST"]
    port = env["PREFECT_SERVER_API_PORT"]
    command = [
        sys.executable,
        "-m",
        "flows.runtime.server",
        "server",
        "start",
        "--host",
        host,
        "--port",
        port,
    ]
    service = _spawn("serveur-prefect", command, env, log_dir)
    try:
        wait_healthy(env["PREFECT_API_URL"], service, timeout)
    except BaseException:
        service.stop()  # not yet in the stack: nobody else would stop it
        raise
    return service


def auth_headers(env: Mapping[str, str]) -> dict[str, str]:
    """The basic-auth header Prefect's clients send when ``PREFECT_API_AUTH_STRING`` is set (closed API)."""
    auth = env.get("PREFECT_API_AUTH_STRING")
    if not auth:
        return {}
    return {"Authorization": "Basic " + base64.b64encode(auth.encode("utf-8")).decode("ascii")}


def wait_healthy(api_url: str, service: Service | None = None, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if service is not None and not service.alive():
            raise LocalServiceError(f"Le serveur Prefect s'est arrêté au démarrage :\n{service.log_tail()}")
        try:
            if httpx.get(f"{api_url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise LocalServiceError(f"Le serveur Prefect ne répond pas sur {api_url} après {timeout:.0f} s.")


def start_runner(
    env: Mapping[str, str], log_dir: Path, *, schedules: bool = True, timeout: float = 300
) -> Service:
    """The runner serving the deployments; returns once the three deployments exist on the server."""
    command = [sys.executable, "-m", "flows.runtime.runner"]
    if not schedules:
        command.append("--sans-planification")
    service = _spawn("runner", command, env, log_dir)
    try:
        wait_deployments(env["PREFECT_API_URL"], service, timeout, auth_headers(env))
    except BaseException:
        service.stop()  # not yet in the stack: nobody else would stop it
        raise
    return service


DEPLOYMENT_NAMES = (
    "demarrer-implantation/demarrer-implantation",
    "etape/etape",
    "echeances/echeances",
    "tableau-national/tableau-national",
    "renvoyer-code/renvoyer-code",
)


def wait_deployments(
    api_url: str, service: Service, timeout: float = 300, headers: Mapping[str, str] | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not service.alive():
            raise LocalServiceError(f"Le runner s'est arrêté au démarrage :\n{service.log_tail()}")
        try:
            found = [
                httpx.get(f"{api_url}/deployments/name/{name}", timeout=2, headers=headers).status_code
                for name in DEPLOYMENT_NAMES
            ]
            if all(code == 200 for code in found):
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise LocalServiceError(f"Le runner n'a pas enregistré les déploiements après {timeout:.0f} s.")


@dataclass
class LocalStack:
    """A server and a runner started together, stopped in reverse order."""

    env: dict[str, str]
    log_dir: Path
    services: list[Service] = field(default_factory=list)

    @property
    def api_url(self) -> str:
        return self.env["PREFECT_API_URL"]

    @property
    def ui_url(self) -> str:
        return self.env["PREFECT_UI_URL"]

    def start(self, *, schedules: bool = True) -> "LocalStack":
        self.services.append(start_server(self.env, self.log_dir))
        self.services.append(start_runner(self.env, self.log_dir, schedules=schedules))
        return self

    def service(self, name: str) -> Service:
        return next(s for s in self.services if s.name == name)

    def restart_runner(self, *, schedules: bool = True) -> Service:
        old = self.service("runner")
        old.stop()
        self.services.remove(old)
        runner = start_runner(self.env, self.log_dir, schedules=schedules)
        self.services.append(runner)
        return runner

    def stop(self) -> None:
        for service in reversed(self.services):
            service.stop()
        self.services.clear()


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
