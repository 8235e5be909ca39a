"""The ``siae`` command: the domain commands plus those that talk to the Prefect server.

Prefect is imported inside the commands that need it, so the domain commands start fast and the
domain package itself never imports Prefect.
"""

import os
import socket
from datetime import date
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import typer

from implantation.cli import EXTENSIONS, build_app
from implantation.cli import main as _domain_main
from implantation.cli.common import fail, out
from implantation.cli.hooks import AFTER_ABANDON, CLI_ACTOR, REFERENTIAL_CHANGED, RESEND_CODE

if TYPE_CHECKING:
    from prefect.client.schemas.objects import FlowRun

# The deployment's parameters as the command's options, to name the one the server refused.
OPTIONS = {"etablissement": "etablissement", "chef_de_projet": "chef", "date_debut": "debut"}


def _api_url() -> str:
    """The server's API; without an explicit URL Prefect would start a throw-away server of its own."""
    from implantation.settings import get_settings

    ui_url = get_settings().prefect_ui_url.rstrip("/")
    return os.environ.get("PREFECT_API_URL") or f"{ui_url}/api"


def _prefect_at(url: str) -> Any:
    """Prefect's settings pointing at ``url`` for the calls inside (the process's environment is left as it
    is: the tests run these commands in their own process)."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    return temporary_settings(updates={PREFECT_API_URL: url})


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
        with _prefect_at(url):
            async with get_client() as client:
                return await run_form.refresh(client, get_engine(database_url()))

    try:
        import asyncio  # here: the domain commands never pay for it

        done = asyncio.run(_refresh())
    except Exception as exc:  # the referential is saved; only the form's lists wait for the runner
        return f"Listes du formulaire « Démarrer » non mises à jour ({url} : {type(exc).__name__})."
    return "Listes du formulaire « Démarrer » mises à jour." if done else None


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
            return f"le serveur Prefect refuse {fields} (HTTP {code}) : vérifiez les choix donnés."
        return f"le serveur Prefect ({api_url}) a répondu HTTP {code} : réessayez, ou voyez ses journaux."
    if isinstance(exc, (httpx.TransportError, OSError)):
        return f"impossible de joindre le serveur Prefect ({api_url}) : est-il démarré (« make serve ») ?"
    return f"démarrage impossible ({type(exc).__name__}) : voyez les journaux du serveur Prefect ({api_url})."


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
    from implantation.cli.common import database
    from implantation.services import choices
    from implantation.services.errors import DomainError

    try:
        with database() as session:
            site = choices.establishment_label(choices.establishment(session, etablissement))
            lead = choices.lead_label(choices.person(session, chef, "chef"))
    except DomainError as exc:
        fail(str(exc))
    api_url = _api_url()
    from prefect.deployments import run_deployment

    from implantation.notifications.context import flow_run_url

    deployment = "demarrer-implantation/demarrer-implantation"
    try:
        with _prefect_at(api_url):
            run: FlowRun = run_deployment(  # type: ignore[assignment]  # called synchronously
                deployment,
                parameters={"etablissement": site, "chef_de_projet": lead, "date_debut": started},
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

    waiting = [StateType.PAUSED, StateType.SCHEDULED, StateType.PENDING, StateType.RUNNING]
    return list(
        client.read_flow_runs(
            flow_run_filter=FlowRunFilter(
                tags=FlowRunFilterTags(all_=[f"projet-{project_id}"]),
                state=FlowRunFilterState(type=FlowRunFilterStateType(any_=waiting)),
            )
        )
    )


def cancel_waiting_runs(project_id: int, person_id: int | None) -> list[str]:
    """Cancel the abandoned project's stage runs still waiting (suspended at their gate, or scheduled) or
    running, each logged in the application's journal; without a server, say what remains to do."""
    api_url = _api_url()
    if not _reachable(api_url):
        return [
            f"Attention : serveur Prefect injoignable ({api_url}) ; l'étape en attente de ce projet reste "
            "suspendue dans Prefect : annulez-la dans l'interface (rien ne sera décidé : le projet est abandonné)."
        ]
    from prefect.client.schemas.objects import StateType
    from prefect.states import Cancelled, Cancelling

    from flows.runtime.client import sync_client
    from implantation.cli.common import database
    from implantation.services.projects import actor_for
    from implantation.services.workflow import log_run_cancelled

    lines: list[str] = []
    with _prefect_at(api_url), sync_client() as client:
        runs = _waiting_runs(client, project_id)
        for run in runs:
            # A running run has a process: « Cancelling » asks its runner to stop it (as the UI's Cancel).
            running = run.state is not None and run.state.type == StateType.RUNNING
            state = Cancelling if running else Cancelled
            client.set_flow_run_state(run.id, state(message="Projet abandonné"), force=True)
    with database() as session:
        actor = actor_for(session, person_id, CLI_ACTOR)
        for run in runs:
            stage = run.parameters.get("etape")
            log_run_cancelled(session, project_id, stage if isinstance(stage, int) else None, run.name, actor)
            lines.append(f"Exécution en attente « {run.name} » annulée dans Prefect.")
    return lines


RESEND_DEPLOYMENT = "renvoyer-code/renvoyer-code"
RESEND_WAIT_SECONDS = 120


def request_code_resend(projet: str, etape: int, personne: str) -> str:
    """Start the ``renvoyer-code`` run and wait for its outcome: the code is computed where runs execute,
    so this workstation needs no ``SIAE_SECRET_KEY``."""
    api_url = _api_url()
    from prefect.deployments import run_deployment

    try:
        with _prefect_at(api_url):
            run: FlowRun = run_deployment(  # type: ignore[assignment]  # called synchronously
                RESEND_DEPLOYMENT,
                parameters={"projet": projet, "etape": etape, "personne": personne},
                timeout=RESEND_WAIT_SECONDS,
                poll_interval=1,
            )
    except Exception as exc:
        fail(prefect_failure(exc, api_url, RESEND_DEPLOYMENT))
    from implantation.notifications.context import flow_run_url
    from implantation.settings import get_settings

    state, follow = run.state, flow_run_url(get_settings().prefect_ui_url.rstrip("/"), run.id)
    if state is None or not state.is_final():
        return (
            f"Renvoi demandé (exécution {run.name}) ; il n'est pas encore exécuté : aucun runner ne l'a "
            f"pris en {RESEND_WAIT_SECONDS} s. Suivi : {follow}"
        )
    if state.is_completed():
        return state.message or f"Code renvoyé (exécution {run.name})."
    fail(state.message or f"renvoi non effectué (exécution {run.name}, « {state.name} ») : voir {follow}")


def _register(app: typer.Typer) -> None:
    app.command("demarrer")(demarrer)


EXTENSIONS.append(_register)
AFTER_ABANDON.append(cancel_waiting_runs)
REFERENTIAL_CHANGED.append(refresh_run_form)
RESEND_CODE.append(request_code_resend)


def __getattr__(name: str) -> Any:
    """``app``: the complete command tree, Prefect commands included (for the tests)."""
    if name == "app":
        return build_app()
    raise AttributeError(name)


def main() -> None:
    _domain_main()
