"""The ``siae`` command: the domain commands plus those that talk to the Prefect server.

Prefect is imported inside the commands that need it, so the domain commands start fast and the
domain package itself never imports Prefect.
"""

import os
from datetime import date
from typing import Any

import typer

from implantation.cli import EXTENSIONS, build_app
from implantation.cli import main as _domain_main
from implantation.cli.common import fail, out
from implantation.cli.hooks import AFTER_ABANDON, CLI_ACTOR

# The deployment's parameters as the command's options, to name the one the server refused.
OPTIONS = {"etablissement_id": "etablissement", "chef_de_projet_id": "chef", "date_debut": "debut"}


def _api_url() -> str:
    """The server's API; without an explicit URL Prefect would start a throw-away server of its own."""
    from implantation.settings import get_settings

    ui_url = get_settings().prefect_ui_url.rstrip("/")
    os.environ.setdefault("PREFECT_API_URL", f"{ui_url}/api")
    return os.environ["PREFECT_API_URL"]


def prefect_failure(exc: BaseException, api_url: str, deployment: str) -> str:
    """A French message for what went wrong talking to the server, never the exception's raw text."""
    import httpx
    from prefect.exceptions import ObjectNotFound

    if isinstance(exc, ObjectNotFound):
        return f"déploiement « {deployment} » absent du serveur Prefect ({api_url}) : lancez « make serve »."
    if isinstance(exc, httpx.HTTPStatusError):
        code = exc.response.status_code
        if code in (401, 403):
            return (
                f"accès refusé par le serveur Prefect ({api_url}, HTTP {code}) : vérifiez l'authentification."
            )
        if code in (409, 422):
            named = [f"« {option} »" for name, option in OPTIONS.items() if name in exc.response.text]
            fields = ", ".join(named) if named else "les paramètres"
            return f"le serveur Prefect refuse {fields} (HTTP {code}) : vérifiez les identifiants donnés."
        return f"le serveur Prefect ({api_url}) a répondu HTTP {code} : réessayez, ou voyez ses journaux."
    if isinstance(exc, (httpx.TransportError, OSError)):
        return f"impossible de joindre le serveur Prefect ({api_url}) : est-il démarré (« make serve ») ?"
    return f"démarrage impossible ({type(exc).__name__}) : voyez les journaux du serveur Prefect ({api_url})."


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
    for option, value in (("etablissement", etablissement), ("chef", chef)):
        if value < 1:
            fail(f"champ « {option} » : identifiant invalide « {value} », un entier positif est attendu.")
    api_url = _api_url()
    from prefect.deployments import run_deployment

    from implantation.notifications.context import flow_run_url

    deployment = "demarrer-implantation/demarrer-implantation"
    try:
        run = run_deployment(
            deployment,
            parameters={"etablissement_id": etablissement, "chef_de_projet_id": chef, "date_debut": started},
            timeout=0,
        )
    except Exception as exc:
        fail(prefect_failure(exc, api_url, deployment))
    from implantation.settings import get_settings

    ui_url = get_settings().prefect_ui_url.rstrip("/")
    out.print(f"Implantation demandée : exécution {run.id}\nSuivi : {flow_run_url(ui_url, run.id)}")


def _reachable(api_url: str) -> bool:
    import httpx

    try:
        return httpx.get(f"{api_url.rstrip('/')}/health", timeout=3).status_code == 200
    except httpx.HTTPError:
        return False


def _waiting_runs(client: Any, project_id: int) -> list[Any]:
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
        FlowRunFilterTags,
    )
    from prefect.client.schemas.objects import StateType

    waiting = [StateType.PAUSED, StateType.SCHEDULED, StateType.PENDING]
    return list(
        client.read_flow_runs(
            flow_run_filter=FlowRunFilter(
                tags=FlowRunFilterTags(all_=[f"projet-{project_id}"]),
                state=FlowRunFilterState(type=FlowRunFilterStateType(any_=waiting)),
            )
        )
    )


def cancel_waiting_runs(project_id: int, person_id: int | None) -> list[str]:
    """Cancel the abandoned project's stage runs still waiting (suspended at their gate, or scheduled),
    each logged in the application's journal; without a server, say what remains to do."""
    api_url = _api_url()
    if not _reachable(api_url):
        return [
            f"Attention : serveur Prefect injoignable ({api_url}) ; l'étape en attente de ce projet reste "
            "suspendue dans Prefect : annulez-la dans l'interface (rien ne sera décidé : le projet est abandonné)."
        ]
    from prefect.states import Cancelled

    from flows.runtime.client import sync_client
    from implantation.cli.common import database
    from implantation.services.projects import actor_for
    from implantation.services.workflow import log_run_cancelled

    lines: list[str] = []
    with sync_client() as client:
        runs = _waiting_runs(client, project_id)
        for run in runs:
            client.set_flow_run_state(run.id, Cancelled(message="Projet abandonné"), force=True)
    with database() as session:
        actor = actor_for(session, person_id, CLI_ACTOR)
        for run in runs:
            stage = run.parameters.get("etape")
            log_run_cancelled(session, project_id, stage if isinstance(stage, int) else None, run.name, actor)
            lines.append(f"Exécution en attente « {run.name} » annulée dans Prefect.")
    return lines


def _register(app: typer.Typer) -> None:
    app.command("demarrer")(demarrer)


EXTENSIONS.append(_register)
AFTER_ABANDON.append(cancel_waiting_runs)


def __getattr__(name: str) -> Any:
    """``app``: the complete command tree, Prefect commands included (for the tests)."""
    if name == "app":
        return build_app()
    raise AttributeError(name)


def main() -> None:
    _domain_main()
