"""The runner starts a run as soon as the server announces it, instead of at its next poll.

A click on « Reprendre » and the next stage's creation each made a person wait for the runner's poll:
0.1 to 0.4 s each at four polls a second, twice per decision, and those polls were a tenth of the
server's work. The server announces every state change as an event on its websocket stream. The
runner listens to two of them for the deployments people wait on: a run created Scheduled (the next
stage, a new implantation) and a run resumed (« Resuming »). It then runs its own poll at once, so
the run is claimed exactly as a poll would claim it (Pending proposed, concurrency limit respected,
duplicates refused by the server when several runners hear the same event). The poll stays as the
fallback: if the stream is down, runs start at the next poll as before.

The event can reach the runner before the transaction that wrote the run is visible to another
query, and a resume can come while the process of the run's previous part (up to its gate) is still
exiting: the run is then looked at again after a short pause.

Patch ``wakeup`` of :mod:`flows.runtime.tuning` (off: runs start at the runner's poll, as in Prefect).
Guard: ``tests/runtime/test_private_names.py`` fails if the runner's poller or its attributes used here
change; ``tests/runtime/test_wakeup.py::test_new_and_resumed_runs_start_without_a_poll`` fails if the server
stops announcing these events.
"""

import asyncio
from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from uuid import UUID

from prefect.events.clients import get_events_subscriber
from prefect.events.filters import EventFilter, EventNameFilter, EventRelatedFilter
from prefect.events.schemas.events import Event
from prefect.exceptions import ObjectNotFound
from prefect.logging import get_logger
from prefect.runner import Runner

WAKE_EVENTS = ("prefect.flow-run.Scheduled", "prefect.flow-run.Resuming")
# Pauses before each further look at an announced run: not visible yet to another query, or its
# previous process (the stage that just suspended) not yet gone, which takes up to 2 s.
LOOK_AGAIN_PAUSES = (0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2)
# A run scheduled further ahead than this is left to the poll (the daily sweep is not woken anyway).
LATER = timedelta(seconds=10)
RECONNECT_PAUSE = 5.0

logger = get_logger("runner.siae")


def wake_filter(deployment_ids: Collection[UUID]) -> EventFilter:
    return EventFilter(
        event=EventNameFilter(name=list(WAKE_EVENTS)),
        related=EventRelatedFilter(id=[f"prefect.deployment.{d}" for d in deployment_ids]),
    )


def announced_run(event: Event, since: datetime) -> UUID | None:
    """The run an event announces, or None for an event from before the runner listened.

    The stream replays the last minute on connection; those runs were found by the runner's first poll.
    """
    if event.occurred < since:
        return None
    prefix = "prefect.flow-run."
    if event.event not in WAKE_EVENTS or not event.resource.id.startswith(prefix):
        return None
    return UUID(event.resource.id.removeprefix(prefix))


async def claim(runner: Runner, flow_run_id: UUID) -> bool:
    """Hand the announced run to the runner's own submission, as its poll would; False when the run is
    not to be started here (taken by another runner, scheduled for later, stopped runner): the
    regular poll then deals with it."""
    poller = runner._scheduled_run_poller
    try:
        for pause in (0.0, *LOOK_AGAIN_PAUSES):
            await asyncio.sleep(pause)
            if poller.stopping:
                return False
            try:
                run = await runner._client.read_flow_run(flow_run_id)
            except ObjectNotFound:  # not visible yet
                continue
            if run.state is not None and run.state.is_paused():  # the resume is not visible yet
                continue
            if run.state is None or not run.state.is_scheduled():  # taken already
                return False
            if run.next_scheduled_start_time and run.next_scheduled_start_time > datetime.now(UTC) + LATER:
                return False
            if flow_run_id in poller._submitting_flow_run_ids:  # its previous process is still exiting
                continue
            await poller._submit_scheduled_flow_runs(
                flow_run_response=[run], task_group=poller._runs_task_group
            )
            return flow_run_id in poller._submitting_flow_run_ids
    except Exception as exc:  # the regular poll retries
        logger.warning("Run %s annoncé mais pas pris : %s", flow_run_id, exc)
    return False


async def listen(runner: Runner, deployment_ids: Collection[UUID]) -> None:
    """Until cancelled: claim every announced run; reconnect after any failure of the stream."""
    while not runner.started:
        await asyncio.sleep(0.05)
    since = datetime.now(UTC)
    pending: set[asyncio.Task[bool]] = set()
    while True:
        try:
            async with get_events_subscriber(
                filter=wake_filter(deployment_ids), reconnect_on_clean_close=True
            ) as subscriber:
                logger.info("Runner à l'écoute des runs annoncés par le serveur.")
                async for event in subscriber:
                    flow_run_id = announced_run(event, since)
                    if flow_run_id is not None:
                        task = asyncio.create_task(claim(runner, flow_run_id))
                        pending.add(task)
                        task.add_done_callback(pending.discard)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the poll keeps starting runs meanwhile
            logger.warning(
                "Flux d'événements du serveur interrompu (%s) : les runs partent à la prochaine "
                "interrogation du serveur ; nouvelle connexion dans %.0f s.",
                exc,
                RECONNECT_PAUSE,
            )
        await asyncio.sleep(RECONNECT_PAUSE)
