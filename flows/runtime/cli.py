"""The ``siae`` command: the domain commands plus those that talk to the Prefect server.

Prefect is imported inside the commands that need it, so the domain commands start fast and the
domain package itself never imports Prefect.
"""

import asyncio
import os
import socket
from datetime import date
from urllib.parse import urlsplit

import typer

from implantation.cli import app
from implantation.cli import main as _domain_main
from implantation.cli.common import database, fail, out
from implantation.cli.referential import REFERENTIAL_CHANGED
from implantation.notifications.context import flow_run_url
from implantation.services import choices
from implantation.services.errors import DomainError
from implantation.settings import get_settings


def _api_url() -> str:
    """The Prefect API: ``PREFECT_API_URL``, else the one beside the UI of the settings.

    Without an explicit API URL Prefect would start a throw-away server of its own.
    """
    ui_url = get_settings().prefect_ui_url.rstrip("/")
    os.environ.setdefault("PREFECT_API_URL", f"{ui_url}/api")
    return os.environ["PREFECT_API_URL"]


def _listening(url: str) -> bool:
    """A quick look before importing Prefect: a closed port answers at once."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def refresh_run_form() -> str | None:
    """After a change of the referential: the run form's lists follow it, when the server is up."""
    url = _api_url()
    if not _listening(url):
        return "Listes du formulaire « Démarrer » : mises à jour au prochain démarrage du runner."
    from prefect.client.orchestration import get_client

    from flows.runtime import choices as run_form
    from implantation.cli.common import database_url
    from implantation.db.session import get_engine

    async def _refresh() -> bool:
        async with get_client() as client:
            return await run_form.refresh(client, get_engine(database_url()))

    try:
        done = asyncio.run(_refresh())
    except Exception as exc:  # the referential is saved; only the form's lists wait for the runner
        return f"Listes du formulaire « Démarrer » non mises à jour ({url} : {type(exc).__name__})."
    return "Listes du formulaire « Démarrer » mises à jour." if done else None


REFERENTIAL_CHANGED.append(refresh_run_form)


@app.command("demarrer")
def demarrer(
    etablissement: str = typer.Option(
        ..., "--etablissement", help="Code de l'établissement (ex. CP-GRENOBLE-VARCES) ou identifiant"
    ),
    chef: str = typer.Option(
        ..., "--chef", help="Adresse électronique ou identifiant du chef de projet DISP"
    ),
    debut: str | None = typer.Option(None, "--debut", help="Date de début AAAA-MM-JJ (aujourd'hui sinon)"),
) -> None:
    """Démarrer une implantation sur le serveur Prefect (les mêmes choix que dans le formulaire « Run »)."""
    try:
        started = date.fromisoformat(debut) if debut else None
    except ValueError:
        fail(f"champ « debut » : date invalide « {debut} », format AAAA-MM-JJ attendu.")
    try:
        with database() as session:
            site = choices.establishment_label(choices.establishment(session, etablissement))
            lead = choices.lead_label(choices.person(session, chef, "chef"))
    except DomainError as exc:
        fail(str(exc))
    url = _api_url()
    if not _listening(url):
        fail(f"serveur Prefect injoignable ({url}) : lancez-le avec « make serve ».")
    from prefect.deployments import run_deployment

    try:
        run = run_deployment(
            "demarrer-implantation/demarrer-implantation",
            parameters={"etablissement": site, "chef_de_projet": lead, "date_debut": started},
            timeout=0,
        )
    except Exception as exc:
        fail(f"le serveur Prefect ({url}) a refusé la demande : {exc}")
    ui_url = get_settings().prefect_ui_url.rstrip("/")
    out.print(f"Implantation demandée : exécution {run.id}\nSuivi : {flow_run_url(ui_url, run.id)}")


def main() -> None:
    _domain_main()
