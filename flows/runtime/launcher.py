"""The production launcher: the environment of the Prefect server and runner, and their processes.

``make serve`` (:mod:`flows.runtime.serve`) and the systemd units of ``deploy/`` start the product as an
administration runs it, so the operator's settings win: every ``PREFECT_*`` and ``SIAE_*`` variable of the
environment, or of ``.env`` in the working directory, reaches the server and the runner unchanged. The
launcher only fills in what the operator left unset (:func:`runtime_defaults`, :func:`production_env`).

The test harness (``flows/harness``) builds an isolated environment for each test on top of this module;
the reverse never happens (``tests/test_import_graph.py``).

A listen address such as ``0.0.0.0`` means « every interface »: it is never written into a URL. People's
browsers use the public address (``--url-publique`` / ``SIAE_URL_PUBLIQUE``): Prefect's UI API URL, the links
of the e-mails and the UI links that the runner and the CLI print. Processes of the server's machine reach
the API on the loopback.
"""

import base64
import ipaddress
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from flows.runtime import prefect_defaults

ROOT = Path(__file__).resolve().parent.parent.parent
OPERATOR_PREFIXES = ("PREFECT_", "SIAE_")
PUBLIC_URL = "SIAE_URL_PUBLIQUE"


class LaunchError(RuntimeError):
    """A service did not start, or a setting forbids it; the message is French."""


def operator_environment(
    environ: Mapping[str, str] | None = None, env_file: Path | None = None
) -> dict[str, str]:
    """The process's environment, plus the ``PREFECT_*`` and ``SIAE_*`` lines of ``.env`` it does not set.

    The environment wins over the file, as in the settings classes of Prefect and of the application.
    """
    from dotenv import dotenv_values

    env = dict(os.environ if environ is None else environ)
    path = env_file if env_file is not None else Path.cwd() / ".env"
    if path.is_file():
        for key, value in dotenv_values(path).items():
            if value is not None and key.startswith(OPERATOR_PREFIXES) and key not in env:
                env[key] = value
    return env


def runtime_defaults(environ: Mapping[str, str]) -> dict[str, str]:
    """Prefect settings the product relies on (:mod:`flows.runtime.prefect_defaults`, each with its reason),
    only those the operator left unset."""
    defaults = {**prefect_defaults.defaults_for(environ), **runner_defaults({}), "PYTHONUNBUFFERED": "1"}
    return {key: value for key, value in defaults.items() if key not in environ}


def runner_defaults(environ: Mapping[str, str]) -> dict[str, str]:
    """What every runner sets for its runs whatever started it (``flows.runtime.runner`` applies it).

    Each run's process tells the server it lives: a run whose beats stop is scheduled again by a runner of
    another machine (:mod:`flows.runtime.recovery`). 30 s is Prefect's minimum. The public address, when
    given, is the UI that the runs' links name.
    """
    defaults = {"PREFECT_FLOWS_HEARTBEAT_FREQUENCY": "30"}
    public = environ.get(PUBLIC_URL)
    if public:  # the UI links that runs print and send, whoever started the runner
        defaults |= {"PREFECT_UI_URL": public.rstrip("/"), "SIAE_PREFECT_UI_URL": public.rstrip("/")}
    return {key: value for key, value in defaults.items() if key not in environ}


def schema_refusal(database_url: str) -> str | None:
    """Why a runner must not start on this application database (French), or None when its schema is the
    code's. Runners never upgrade it themselves: several machines starting together would race."""
    from implantation.db.revision import database_revision, script_head
    from implantation.db.session import make_engine

    engine = make_engine(database_url)
    try:
        current, head = database_revision(engine), script_head()
    finally:
        engine.dispose()
    if current == head:
        return None
    if current is None:
        state = "n'est pas initialisée"
    else:
        state = f"est à la révision {current}, et non {head} (celle de ce code)"
    return (
        f"Refus de démarrer : la base de l'application {state}. Lancer « siae migrer » une fois (une seule "
        "machine suffit, sous verrou), puis redémarrer les runners. Voir deploy/README.md, « Mise à jour »."
    )


def is_loopback(host: str) -> bool:
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def is_wildcard(host: str) -> bool:
    """« Every interface »: a listen address, never a place to connect to."""
    try:
        return ipaddress.ip_address(host.strip("[]")).is_unspecified
    except ValueError:
        return False


def url_host(host: str) -> str:
    """A host as written in a URL (IPv6 addresses in brackets)."""
    bare = host.strip("[]")
    return f"[{bare}]" if ":" in bare else bare


def public_url(host: str, port: int, given: str | None) -> str:
    """The address people's browsers use, or :class:`LaunchError` (French) when there is none to use."""
    if given:
        parts = urlsplit(given.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise LaunchError(
                f"Adresse publique invalide « {given} » : attendu http(s)://nom-du-serveur[:port] "
                f"(--url-publique ou {PUBLIC_URL})."
            )
        if is_wildcard(parts.hostname):
            raise LaunchError(
                f"Adresse publique invalide « {given} » : {parts.hostname} est une adresse d'écoute, pas une "
                "adresse que les navigateurs peuvent joindre. Indiquer le nom du serveur."
            )
        return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"
    if not is_loopback(host):
        raise LaunchError(
            f"Refus de démarrer sur l'adresse « {host} » (hors boucle locale) sans adresse publique : indiquer "
            f"--url-publique https://nom-du-serveur (ou {PUBLIC_URL}), l'adresse que les navigateurs des "
            "agents utilisent pour l'interface et que citent les courriels."
        )
    return f"http://{url_host(host)}:{port}"


def closed_api_env(
    hote: str, sans_serveur: bool, environ: Mapping[str, str], public: str | None = None
) -> dict[str, str] | str:
    """The variables that close the API and key the codes, or the French reason to refuse to start.

    The Prefect API lets whoever reaches it start, cancel and resume runs: beyond the loopback it needs
    Prefect's basic auth, and the decision codes need ``SIAE_SECRET_KEY``. A server listening on the
    loopback behind a reverse proxy is exposed too: its public address says so.
    """
    server_auth = environ.get("PREFECT_SERVER_API_AUTH_STRING") or environ.get("PREFECT_API_AUTH_STRING")
    client_auth = environ.get("PREFECT_API_AUTH_STRING") or server_auth
    remote = not is_loopback(urlsplit(environ.get("PREFECT_API_URL", "")).hostname or "127.0.0.1")
    proxied = bool(public) and not is_loopback(urlsplit(public or "").hostname or "127.0.0.1")
    exposed = remote if sans_serveur else not is_loopback(hote) or proxied
    if exposed and not (client_auth if sans_serveur else server_auth):
        wanted = "PREFECT_API_AUTH_STRING" if sans_serveur else "PREFECT_SERVER_API_AUTH_STRING"
        if sans_serveur:
            where = "un serveur Prefect distant"
        elif not is_loopback(hote):
            where = f"l'adresse « {hote} » (hors boucle locale)"
        else:
            where = f"l'adresse publique « {public} »"
        return (
            f"Refus de démarrer vers {where} sans authentification : définir {wanted} "
            "(« utilisateur:mot-de-passe », le même sur le serveur et chaque machine d'exécution)."
        )
    if exposed and not environ.get("SIAE_SECRET_KEY"):
        return "Refus de démarrer hors boucle locale sans SIAE_SECRET_KEY (clé des codes de décision)."
    env: dict[str, str] = {}
    if server_auth and not sans_serveur:
        env["PREFECT_SERVER_API_AUTH_STRING"] = server_auth
    if client_auth:
        env["PREFECT_API_AUTH_STRING"] = client_auth
    if not environ.get("SIAE_SECRET_KEY") and not environ.get("SIAE_MODE"):
        env["SIAE_MODE"] = "demo"  # loopback only: the key is generated once under the data directory
    return env


def production_env(
    environ: Mapping[str, str],
    *,
    host: str,
    port: int,
    data_dir: Path,
    url_publique: str | None = None,
    database_url: str | None = None,
    sans_serveur: bool = False,
    defaults: Callable[[Mapping[str, str]], dict[str, str]] = runtime_defaults,
) -> dict[str, str]:
    """The environment of the server and the runner: ``environ`` as the operator gave it, completed.

    Raises :class:`LaunchError` when the settings forbid starting (no public address beyond the loopback,
    no credentials, no API URL for a runner alone).
    """
    env = dict(environ)
    closing = closed_api_env(host, sans_serveur, env, url_publique or env.get(PUBLIC_URL))
    if isinstance(closing, str):
        raise LaunchError(closing)
    for key, value in closing.items():
        env.setdefault(key, value)
    prefect_home = Path(env.get("PREFECT_HOME") or data_dir / "prefect")
    filled: dict[str, str] = {
        "PREFECT_HOME": str(prefect_home),
        "PREFECT_LOCAL_STORAGE_PATH": str(prefect_home / "resultats"),
    }
    if sans_serveur:
        if not env.get("PREFECT_API_URL"):
            raise LaunchError("PREFECT_API_URL doit indiquer le serveur Prefect (ex. https://serveur/api).")
        api = urlsplit(env["PREFECT_API_URL"])
        if api.hostname and is_wildcard(api.hostname):
            raise LaunchError(
                f"PREFECT_API_URL « {env['PREFECT_API_URL']} » nomme une adresse d'écoute : indiquer le nom "
                "du serveur Prefect."
            )
        given = url_publique or env.get(PUBLIC_URL) or env.get("PREFECT_UI_URL")
        # Without one, the server's own address, as the runner reaches it.
        public = public_url(host, port, given) if given else f"{api.scheme}://{api.netloc}"
    else:
        public = public_url(host, port, url_publique or env.get(PUBLIC_URL))
        local = "127.0.0.1" if is_wildcard(host) else url_host(host)
        filled |= {
            "PREFECT_SERVER_API_HOST": host,
            "PREFECT_SERVER_API_PORT": str(port),
            "PREFECT_API_URL": f"http://{local}:{port}/api",
            "PREFECT_API_DATABASE_CONNECTION_URL": database_url
            or f"sqlite+aiosqlite:///{prefect_home / 'prefect.db'}",
        }
        # The launcher's own listen address and port win over a stale value of the environment.
        env["PREFECT_SERVER_API_HOST"], env["PREFECT_SERVER_API_PORT"] = host, str(port)
        if database_url:
            env["PREFECT_API_DATABASE_CONNECTION_URL"] = database_url
    filled |= {
        PUBLIC_URL: public,
        "PREFECT_UI_URL": public,
        "PREFECT_UI_API_URL": f"{public}/api",
        "SIAE_PREFECT_UI_URL": public,
    }
    if url_publique:  # the command line wins over the environment
        for key in (PUBLIC_URL, "PREFECT_UI_URL", "PREFECT_UI_API_URL", "SIAE_PREFECT_UI_URL"):
            env[key] = filled[key]
    for key, value in filled.items():
        env.setdefault(key, value)
    for key, value in defaults(env).items():
        env.setdefault(key, value)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    Path(env["PREFECT_HOME"]).mkdir(parents=True, exist_ok=True)
    return env


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


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


def spawn(
    name: str, command: list[str], env: Mapping[str, str], log_dir: Path, cwd: Path | None = None
) -> Service:
    """``cwd``: the launcher's own by default, where it read ``.env``."""
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}.log"
    log = log_path.open("ab")
    # A new session: stopping the service stops its children (flow runs) and nothing else.
    process = subprocess.Popen(
        command, env=dict(env), stdout=log, stderr=subprocess.STDOUT, cwd=cwd, start_new_session=True
    )
    log.close()
    return Service(name, process, log_path)


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
            raise LaunchError(f"Le serveur Prefect s'est arrêté au démarrage :\n{service.log_tail()}")
        try:
            if httpx.get(f"{api_url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise LaunchError(f"Le serveur Prefect ne répond pas sur {api_url} après {timeout:.0f} s.")


def start_server(env: Mapping[str, str], log_dir: Path, timeout: float = 300) -> Service:
    """A fresh server first runs all of Prefect's migrations on its empty database: more than 90 s when
    the two cores are shared with other work, hence the generous timeout."""
    command = [
        sys.executable,
        "-m",
        "flows.runtime.server",
        "server",
        "start",
        "--host",
        env["PREFECT_SERVER_API_HOST"],
        "--port",
        env["PREFECT_SERVER_API_PORT"],
    ]
    service = spawn("serveur-prefect", command, env, log_dir)
    try:
        wait_healthy(env["PREFECT_API_URL"], service, timeout)
    except BaseException:
        service.stop()  # not yet anyone else's to stop
        raise
    return service


DEPLOYMENT_NAMES = (
    "demarrer-implantation/demarrer-implantation",
    "etape/etape",
    "echeances/echeances",
    "tableau-national/tableau-national",
    "renvoyer-code/renvoyer-code",
)


def _registered(api_url: str, headers: Mapping[str, str] | None) -> dict[str, str] | None:
    """When each deployment was last registered (server's ``updated``), or None while one is missing."""
    found: dict[str, str] = {}
    for name in DEPLOYMENT_NAMES:
        response = httpx.get(f"{api_url}/deployments/name/{name}", timeout=2, headers=headers)
        if response.status_code != 200:
            return None
        found[name] = str(response.json().get("updated"))
    return found


def wait_deployments(
    api_url: str,
    service: Service,
    timeout: float = 300,
    headers: Mapping[str, str] | None = None,
    before: Mapping[str, str] | None = None,
) -> None:
    """Until this runner has registered every deployment: all exist and, when other runners registered
    them ``before``, each was registered again since."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not service.alive():
            raise LaunchError(f"Le runner s'est arrêté au démarrage :\n{service.log_tail()}")
        try:
            found = _registered(api_url, headers)
            if found is not None and all(found[name] != before.get(name) for name in found if before):
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise LaunchError(f"Le runner n'a pas enregistré les déploiements après {timeout:.0f} s.")


def start_runner(
    env: Mapping[str, str],
    log_dir: Path,
    *,
    schedules: bool = True,
    timeout: float = 300,
    name: str = "runner",
    cwd: Path | None = None,
) -> Service:
    """The runner serving the deployments; returns once they all exist on the server."""
    command = [sys.executable, "-m", "flows.runtime.runner"]
    if not schedules:
        command.append("--sans-planification")
    headers = auth_headers(env)
    try:
        before = _registered(env["PREFECT_API_URL"], headers)
    except httpx.HTTPError:
        before = None
    service = spawn(name, command, env, log_dir, cwd)
    try:
        wait_deployments(env["PREFECT_API_URL"], service, timeout, headers, before)
    except BaseException:
        service.stop()  # not yet anyone else's to stop
        raise
    return service


@dataclass
class Stack:
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

    def start(self, *, schedules: bool = True) -> "Stack":
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
