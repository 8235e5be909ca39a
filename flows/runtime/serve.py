"""``python -m flows.runtime.serve`` (``make serve``): the Prefect server and the runner, until Ctrl-C.

Every ``PREFECT_*`` and ``SIAE_*`` setting of the environment or of ``.env`` is kept; defaults fill only
what is unset (:mod:`flows.runtime.launcher`). By default the Prefect server keeps its state in SQLite under
``<data_dir>/prefect`` (fine for one user); ``--base-prefect postgresql+asyncpg://…`` (or
``PREFECT_API_DATABASE_CONNECTION_URL``) uses PostgreSQL, which production needs. ``--sans-serveur`` starts
only a runner against an existing server (``PREFECT_API_URL``): that is how runners are added on other
machines.

Beyond the loopback the server needs Prefect's basic auth (``PREFECT_SERVER_API_AUTH_STRING``, also given
to the runner as ``PREFECT_API_AUTH_STRING``), ``SIAE_SECRET_KEY``, and the public address that browsers use
(``--url-publique`` / ``SIAE_URL_PUBLIQUE``). The deployment runbook is ``deploy/README.md``.
"""

import os
import signal
import sys
import time
from pathlib import Path

from rich.console import Console

from flows.runtime.launcher import (
    PUBLIC_URL,
    LaunchError,
    Stack,
    closed_api_env,
    is_loopback,
    operator_environment,
    production_env,
    start_runner,
)
from implantation.cli.common import FrenchArgumentParser, widen_piped_output
from implantation.settings import PROJECT_ROOT

console = Console()
__all__ = ["closed_api_env", "is_loopback", "main"]


def main(argv: list[str] | None = None) -> int:
    widen_piped_output()
    environ = operator_environment()
    parser = FrenchArgumentParser(description="Démarre le serveur Prefect et exécute les déploiements SIAE.")
    parser.add_argument(
        "--port",
        type=int,
        default=int(environ.get("PREFECT_SERVER_API_PORT", "4200")),
        help="Port du serveur Prefect (PREFECT_SERVER_API_PORT, 4200 par défaut)",
    )
    parser.add_argument(
        "--hote",
        default=environ.get("PREFECT_SERVER_API_HOST", "127.0.0.1"),
        help="Adresse d'écoute (PREFECT_SERVER_API_HOST, boucle locale par défaut)",
    )
    parser.add_argument(
        "--url-publique",
        default=None,
        help=f"Adresse de l'interface pour les navigateurs et les courriels ({PUBLIC_URL}) ; obligatoire "
        "hors boucle locale, ex. https://siae.interieur.justice.fr",
    )
    parser.add_argument(
        "--base-prefect",
        default=None,
        help="URL de la base du serveur Prefect (PREFECT_API_DATABASE_CONNECTION_URL ; SQLite sous le "
        "répertoire de données par défaut)",
    )
    parser.add_argument("--sans-serveur", action="store_true", help="Runner seul, vers PREFECT_API_URL")
    parser.add_argument(
        "--sans-planification", action="store_true", help="Pas de balayage quotidien des échéances"
    )
    args = parser.parse_args(argv)

    data_dir = Path(environ.get("SIAE_DATA_DIR") or PROJECT_ROOT / "data")
    try:
        env = production_env(
            environ,
            host=args.hote,
            port=args.port,
            data_dir=data_dir,
            url_publique=args.url_publique,
            database_url=args.base_prefect,
            sans_serveur=args.sans_serveur,
        )
    except LaunchError as exc:
        console.print(f"[red]{exc}[/]")
        return 2
    stack = Stack(env, data_dir / "journaux")
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
    except LaunchError as exc:
        console.print(f"[red]{exc}[/]")
        return 1
    finally:
        console.print("Arrêt du runner et du serveur…")
        stack.stop()
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
