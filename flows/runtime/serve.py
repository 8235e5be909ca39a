"""``python -m flows.runtime.serve`` (``make serve``): the Prefect server and the runner, until Ctrl-C.

By default the Prefect server keeps its state in SQLite under ``<data_dir>/prefect`` (fine for one user);
``--base-prefect postgresql+asyncpg://…`` uses PostgreSQL, which production needs (concurrent resumes
lock SQLite). ``--sans-serveur`` starts only a runner against an existing server (``PREFECT_API_URL``):
that is how more runners are added on other machines.

The Prefect API lets whoever reaches it start, cancel and resume runs. So ``make serve`` listens on
anything but the loopback only with Prefect's basic auth set (``PREFECT_SERVER_API_AUTH_STRING``, « user:mot
de passe », also given to the runner as ``PREFECT_API_AUTH_STRING``), and a runner reaching a server on
another machine needs ``PREFECT_API_AUTH_STRING``. Likewise the decision codes need ``SIAE_SECRET_KEY``
there; on the loopback alone (one person trying the product) a key kept under the data directory does.
"""

import ipaddress
import os
import signal
import sys
import time
from urllib.parse import urlparse

from rich.console import Console

from flows.harness.local import LocalServiceError, LocalStack, prefect_env, start_runner
from implantation.cli.common import FrenchArgumentParser, widen_piped_output
from implantation.db.migrate import upgrade_to_head
from implantation.settings import get_settings

console = Console()


def is_loopback(host: str) -> bool:
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def closed_api_env(hote: str, sans_serveur: bool, environ: dict[str, str]) -> dict[str, str] | str:
    """The variables that close the API and key the codes, or the French reason to refuse to start."""
    server_auth = environ.get("PREFECT_SERVER_API_AUTH_STRING") or environ.get("PREFECT_API_AUTH_STRING")
    client_auth = environ.get("PREFECT_API_AUTH_STRING") or server_auth
    remote = not is_loopback(urlparse(environ.get("PREFECT_API_URL", "")).hostname or "127.0.0.1")
    exposed = remote if sans_serveur else not is_loopback(hote)
    if exposed and not (client_auth if sans_serveur else server_auth):
        wanted = "PREFECT_API_AUTH_STRING" if sans_serveur else "PREFECT_SERVER_API_AUTH_STRING"
        where = "un serveur Prefect distant" if sans_serveur else f"l'adresse « {hote} » (hors boucle locale)"
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
    if not environ.get("SIAE_SECRET_KEY"):
        env["SIAE_MODE"] = "demo"  # loopback only: the key is generated once under the data directory
    return env


def main(argv: list[str] | None = None) -> int:
    widen_piped_output()
    parser = FrenchArgumentParser(description="Démarre le serveur Prefect et exécute les déploiements SIAE.")
    parser.add_argument("--port", type=int, default=4200, help="Port du serveur Prefect (4200 par défaut)")
    parser.add_argument("--hote", default="127.0.0.1", help="Adresse d'écoute (boucle locale par défaut)")
    parser.add_argument(
        "--base-prefect",
        default=os.environ.get("PREFECT_API_DATABASE_CONNECTION_URL"),
        help="URL de la base du serveur Prefect (SQLite sous le répertoire de données par défaut)",
    )
    parser.add_argument("--sans-serveur", action="store_true", help="Runner seul, vers PREFECT_API_URL")
    parser.add_argument(
        "--sans-planification", action="store_true", help="Pas de balayage quotidien des échéances"
    )
    args = parser.parse_args(argv)

    closing = closed_api_env(args.hote, args.sans_serveur, dict(os.environ))
    if isinstance(closing, str):
        console.print(f"[red]{closing}[/]")
        return 2
    settings = get_settings()
    upgrade_to_head(settings.effective_database_url)
    env = prefect_env(
        settings.data_dir / "prefect",
        args.port,
        host=args.hote,
        database_url=args.base_prefect,
        extra={**closing, "SIAE_PREFECT_UI_URL": settings.prefect_ui_url}
        if "SIAE_PREFECT_UI_URL" in os.environ
        else closing,
    )
    if args.sans_serveur:
        if not os.environ.get("PREFECT_API_URL"):
            console.print(
                "[red]PREFECT_API_URL doit indiquer le serveur Prefect (ex. http://serveur:4200/api).[/]"
            )
            return 2
        env["PREFECT_API_URL"] = os.environ["PREFECT_API_URL"]
    stack = LocalStack(env, settings.data_dir / "journaux")
    stopping = False

    def _stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, _stop)
    try:
        with console.status("Démarrage…"):
            if args.sans_serveur:
                stack.services.append(start_runner(env, stack.log_dir, schedules=not args.sans_planification))
            else:
                stack.start(schedules=not args.sans_planification)
        console.print(
            f"[bold green]Prêt.[/] Interface Prefect : {stack.ui_url}\n"
            f"Base de l'application : {settings.effective_database_url}\n"
            f"Journaux : {stack.log_dir}\n"
            "Démarrer une implantation : déploiement « demarrer-implantation » dans l'interface, ou "
            "« siae demarrer --etablissement ID --chef ID ». Ctrl-C pour arrêter."
        )
        while not stopping:
            dead = [s for s in stack.services if not s.alive()]
            if dead:
                console.print(f"[red]{dead[0].name} s'est arrêté :[/]\n{dead[0].log_tail()}")
                return 1
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    except LocalServiceError as exc:
        console.print(f"[red]{exc}[/]")
        return 1
    finally:
        console.print("Arrêt du runner et du serveur…")
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
