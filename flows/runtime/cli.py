"""The ``siae`` command: the domain commands plus those that talk to the Prefect server.

Prefect is imported inside the commands that need it, so the domain commands start fast and the
domain package itself never imports Prefect.
"""

import os
from datetime import date

import typer

from implantation.cli import app
from implantation.cli import main as _domain_main
from implantation.cli.common import fail, out
from implantation.notifications.context import flow_run_url
from implantation.settings import get_settings


@app.command("demarrer")
def demarrer(
    etablissement: int = typer.Option(..., "--etablissement", help="Identifiant de l'établissement"),
    chef: int = typer.Option(..., "--chef", help="Identifiant du chef de projet DISP"),
    debut: str | None = typer.Option(None, "--debut", help="Date de début AAAA-MM-JJ (aujourd'hui sinon)"),
) -> None:
    """Démarrer une implantation sur le serveur Prefect (identifiants seulement, jamais de nom)."""
    try:
        started = date.fromisoformat(debut) if debut else None
    except ValueError:
        fail(f"champ « debut » : date invalide « {debut} », format AAAA-MM-JJ attendu.")
    ui_url = get_settings().prefect_ui_url.rstrip("/")
    # Without an explicit API URL Prefect would start a throw-away server of its own.
    os.environ.setdefault("PREFECT_API_URL", f"{ui_url}/api")
    from prefect.deployments import run_deployment

    try:
        run = run_deployment(
            "demarrer-implantation/demarrer-implantation",
            parameters={"etablissement_id": etablissement, "chef_de_projet_id": chef, "date_debut": started},
            timeout=0,
        )
    except Exception as exc:
        fail(f"impossible de joindre le serveur Prefect ({os.environ['PREFECT_API_URL']}) : {exc}")
    out.print(f"Implantation demandée : exécution {run.id}\nSuivi : {flow_run_url(ui_url, run.id)}")


def main() -> None:
    _domain_main()
