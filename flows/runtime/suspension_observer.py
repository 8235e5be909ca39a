"""Prefect's suspension observer, started beside the run instead of before it.

Every run of a deployment starts an observer that notices a suspension requested from outside the
run (the run is then stopped at its next task). Prefect holds the run's start until that observer has
subscribed to the server's event stream, opened its client and read the run's state: 0.1 s in every
start on this machine, paid twice between a click on « Reprendre » and the next stage running.

This copy starts the same observer with the same callback and lets the run begin at once. Nothing is
missed: the observer reads the run's state after subscribing, so a suspension requested while it
connects is seen then, and acted on at the next task as it would have been anyway. The stage flows
suspend themselves (``suspend_flow_run``), which does not go through the observer.

:func:`install` replaces the name the flow engine calls, in the process that runs the flow.
``tests/runtime/test_private_names.py`` checks the copy against the Prefect release in use. Patch
``observer`` of :mod:`flows.runtime.tuning`.
"""

import asyncio
import contextvars
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from uuid import UUID

from prefect import flow_engine
from prefect._flow_run_suspension import FlowRunSuspensionRequest, mark_flow_run_suspension_requested
from prefect._internal.observers import FlowRunSuspendingObserver
from prefect.client.schemas.objects import State
from prefect.events.filters import EventFilter, EventNameFilter, EventResourceFilter
from prefect.logging.loggers import get_logger


def own_events(flow_run_id: UUID) -> EventFilter:
    """This run's suspensions only. Prefect's filter takes every run's: each observer was then sent, on
    connecting, the last minute's suspensions of all runs (about fifty under the national load), and
    each later suspension as it happened, to drop all but its own."""
    return EventFilter(
        event=EventNameFilter(name=["prefect.flow-run.Suspended"]),
        resource=EventResourceFilter(id=[f"prefect.flow-run.{flow_run_id}"]),
    )


@contextmanager
def observe_flow_run_suspension(
    flow_run_id: UUID,
    suspension_request: FlowRunSuspensionRequest,
    polling_interval: float = 10,
) -> Iterator[None]:
    """``prefect._flow_run_suspension.observe_flow_run_suspension`` without the wait for readiness."""
    logger = get_logger("flow_run_suspension")
    stop_event = threading.Event()

    def mark_suspended(flow_run_id: UUID, state: State) -> None:
        if not mark_flow_run_suspension_requested(flow_run_id, state):
            suspension_request.mark_requested(state)

    async def run_observer() -> None:
        async with FlowRunSuspendingObserver(
            on_suspended=mark_suspended,
            polling_interval=polling_interval,
            event_filter=own_events(flow_run_id),
        ) as observer:
            await observer.watch_flow_run_id(flow_run_id)
            while not stop_event.is_set():
                await asyncio.sleep(0.2)

    context = contextvars.copy_context()

    def observer_thread() -> None:
        try:
            context.run(lambda: asyncio.run(run_observer()))
        except Exception:
            logger.debug("Flow run suspension observer exited with an exception", exc_info=True)

    thread = threading.Thread(target=observer_thread, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop_event.set()
        thread.join(timeout=2)


PREFECT_OBSERVER = flow_engine.observe_flow_run_suspension  # before any install


def install() -> None:
    flow_engine.observe_flow_run_suspension = observe_flow_run_suspension


def installed() -> bool:
    """Whether the flow engine of this process starts this observer rather than Prefect's."""
    return flow_engine.observe_flow_run_suspension is observe_flow_run_suspension
