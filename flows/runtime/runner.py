"""The runner: registers the deployments and executes their runs until stopped.

``python -m flows.runtime.runner`` is started by ``python -m flows.runtime.serve`` (and by the demo and tests); run it
alone to add a runner to an existing server.

The flows are added as in-memory flows (``Runner.add_flow``), not as deployments loaded from their
entrypoint: Prefect then starts a run from the flow object it holds, and :mod:`flows.runtime.warm_start` can
fork it from a warm process. A run that someone waits for (a new implantation, a resumed stage, the
next stage) starts when the server announces it (:mod:`flows.runtime.wakeup`); the poll
(``SIAE_RUNNER_POLL_SECONDS``) starts the scheduled sweep and any run whose announcement was missed. A run
whose process died (runner killed, machine stopped) is scheduled again by :mod:`flows.runtime.recovery`.

The patches of Prefect's runner (``forkserver`` and the run-side ones, ``wakeup``) are
applied as :mod:`flows.runtime.tuning` says; with ``SIAE_PREFECT_TUNING=0`` this is Prefect's runner as
released. Guard: ``tests/runtime/test_private_names.py``.
"""

import asyncio
import contextlib
import logging
import os
import threading
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prefect.exceptions import PrefectHTTPStatusError
from prefect.runner import Runner
from prefect.schedules import Cron
from pydantic import ValidationError

from flows.code_resend import renvoyer_code
from flows.implantation_flow import demarrer_implantation
from flows.overview_flow import tableau_national
from flows.runtime import choices, launcher, recovery, result_storage, tuning, wakeup, warm_start
from flows.stage_flow import etape
from flows.sweeper import echeances
from implantation.cli.common import FrenchArgumentParser
from implantation.settings import get_settings

if TYPE_CHECKING:
    from prefect.client.orchestration import PrefectClient

SWEEP_CRON = "0 7 * * 1-5"
SWEEP_TIMEZONE = "Europe/Paris"
OVERVIEW_CRON = "30 6 * * *"  # every day, before the working day starts
# Deployments whose runs someone waits for: started at once when the server announces them (see
# :mod:`flows.runtime.wakeup`). The daily sweep waits for its poll.
WOKEN = ("demarrer-implantation", "etape", "renvoyer-code")
# After SIGTERM, the longest the runner takes to stop. Its graceful shutdown asks the server to pause its
# schedules; with the server gone, Prefect's client retries that for 15 s and more, and a deployment, a
# systemd stop or a test waits. Past this delay the process exits anyway: nothing is lost, the runs it
# holds are the server's records and restart with the next runner.
SHUTDOWN_SECONDS = 7.0

logger = logging.getLogger("siae.runner")


def flows(schedules: bool = True, storage: Path | None = None) -> list[tuple[Any, dict[str, Any]]]:
    """Each flow with its deployment options (name, description, tags, schedules).

    ``storage``: the folder where the flow's runs keep their results, named on each flow. Left unnamed,
    each run asked the server for a default storage (``GET /admin/storage``, 11 ms of the server's CPU on
    the way to the next stage) and, finding none, took ``PREFECT_LOCAL_STORAGE_PATH``: the same folder.
    """
    served: list[tuple[Any, dict[str, Any]]] = [
        (
            demarrer_implantation,
            {
                "name": "demarrer-implantation",
                "description": "Démarrer une implantation : création du projet et ouverture de l'étape 1.",
                "tags": ["siae"],
            },
        ),
        (
            etape,
            {
                "name": "etape",
                "description": "Une étape du projet, jusqu'à la décision (lancée par le processus, pas à la main).",
                "tags": ["siae"],
            },
        ),
        (
            echeances,
            {
                "name": "echeances",
                "description": "Rappels avant échéance et relances hebdomadaires après.",
                "tags": ["siae"],
                "schedules": [Cron(SWEEP_CRON, timezone=SWEEP_TIMEZONE)] if schedules else [],
            },
        ),
        (
            tableau_national,
            {
                "name": "tableau-national",
                "description": "Tableau national des implantations pour l'ATIGIP (quotidien, ou à la demande).",
                "tags": ["siae"],
                "schedules": [Cron(OVERVIEW_CRON, timezone=SWEEP_TIMEZONE)] if schedules else [],
            },
        ),
        (
            renvoyer_code,
            {
                "name": "renvoyer-code",
                "description": "Renvoyer à une personne habilitée son code de décision (à la demande, bouton « Run »).",
                "tags": ["siae"],
            },
        ),
    ]
    if storage is None:
        return served
    return [(flow.with_options(result_storage=storage), options) for flow, options in served]


async def _offer_lists() -> None:
    """The run form lists today's establishments and leads (see :mod:`flows.runtime.choices`)."""
    from prefect.client.orchestration import get_client

    from implantation.db.session import get_engine

    async with get_client() as client:
        await choices.refresh(client, get_engine(get_settings().effective_database_url))


async def _version_refusal(client: "PrefectClient") -> str | None:
    """The check of the server's API version that the runs leave out (``prefect_defaults``), once here.

    Prefect says why in English (and lets a refused password through as an HTTP error): each case is
    told in French, without a trace.
    """
    where = client.api_url.copy_with(userinfo=b"")  # never a password in a log line
    try:
        await client.raise_for_api_version_mismatch()
    except PrefectHTTPStatusError as exc:
        return (
            f"Refus de démarrer : le serveur Prefect {where} refuse ce runner (HTTP {exc.response.status_code}) ; "
            "vérifier PREFECT_API_AUTH_STRING."
        )
    except RuntimeError as exc:
        if exc.__cause__ is not None:  # Prefect's « Failed to reach API »
            return f"Refus de démarrer : le serveur Prefect {where} ne répond pas ({type(exc.__cause__).__name__})."
        return (
            f"Refus de démarrer : ce runner (Prefect {client.client_version()}) et le serveur Prefect {where} "
            "n'ont pas la même version majeure."
        )
    return None


class SiaeRunner(Runner):
    """Prefect's runner, with a bounded stop on SIGTERM whatever the state of the server."""

    def handle_sigterm(self, *args: Any, **kwargs: Any) -> None:
        arm_shutdown_deadline(SHUTDOWN_SECONDS)
        super().handle_sigterm(*args, **kwargs)


def arm_shutdown_deadline(seconds: float) -> threading.Timer:
    """End the process ``seconds`` from now unless it has exited by then (a daemon timer thread)."""

    def force() -> None:
        logger.warning(
            "Arrêt du runner : le serveur Prefect ne répond pas, arrêt forcé après %.0f s.", seconds
        )
        os._exit(0)

    timer = threading.Timer(seconds, force)
    timer.daemon = True
    timer.start()
    return timer


async def _serve(schedules: bool, poll_seconds: float, patches: frozenset[str]) -> None:
    from prefect.client.orchestration import get_client

    async with get_client() as client:
        refusal = await _version_refusal(client) or await result_storage.check(client)
    if refusal:
        result_storage.logger.error(refusal)
        raise SystemExit(2)
    runner = SiaeRunner(name="siae", query_seconds=poll_seconds, pause_on_shutdown=True)
    woken = []
    stages = []
    for flow, options in flows(schedules, result_storage.storage_path()):  # the folder checked above
        deployment_id = await runner.aadd_flow(flow, **options)
        if options["name"] in WOKEN:
            woken.append(deployment_id)
        if options["name"] == "etape":
            stages.append(deployment_id)
        if options["name"] == "demarrer-implantation":
            # Before the other deployments exist: whoever waits for all three finds the lists in place.
            await _offer_lists()
    listener = asyncio.create_task(wakeup.listen(runner, woken)) if tuning.WAKEUP in patches else None
    settings = get_settings()
    recovering = asyncio.create_task(
        recovery.watch(
            woken, settings.recovery_seconds, timedelta(seconds=settings.recovery_stale_seconds), stages
        )
    )
    try:
        await runner.start()
    finally:
        if listener is not None:
            listener.cancel()
        recovering.cancel()


def main(argv: list[str] | None = None) -> None:
    parser = FrenchArgumentParser(description="Exécute les déploiements SIAE jusqu'à l'arrêt.")
    parser.add_argument(
        "--sans-planification",
        action="store_true",
        help="Ne pas planifier le balayage quotidien des échéances",
    )
    try:
        default_poll = get_settings().runner_poll_seconds
        patches = tuning.active(get_settings())
    except ValidationError as exc:
        where = str(exc.errors()[0]["loc"][0])
        parser.error(f"paramètre SIAE_{where.upper()} invalide : {exc.errors()[0]['input']!r}")
    except tuning.TuningError as exc:
        parser.error(str(exc))
    parser.add_argument(
        "--intervalle",
        type=float,
        default=default_poll,
        help=f"Secondes entre deux interrogations du serveur ({default_poll} par défaut, SIAE_RUNNER_POLL_SECONDS)",
    )
    args = parser.parse_args(argv)
    if args.intervalle <= 0:
        parser.error("--intervalle doit être un nombre de secondes positif")
    refusal = launcher.schema_refusal(get_settings().effective_database_url)
    if refusal:
        parser.exit(2, refusal + "\n")
    # Before the forkserver starts: every run inherits them, however this runner was started.
    os.environ.update(launcher.runner_defaults(os.environ))
    if tuning.FORKSERVER in patches or patches & tuning.RUN_PATCHES:
        warm_start.install(patches)  # otherwise Prefect's own starter (SIAE_PREFECT_TUNING=0)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(not args.sans_planification, args.intervalle, patches))


if __name__ == "__main__":
    main()
