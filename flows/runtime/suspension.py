"""Patch ``no_observer``: a run does not watch the server's events for a suspension asked from outside it.

Prefect 3.9 starts, in every run of a deployment (``BaseFlowRunEngine.setup_flow_run_suspension_request``),
a thread with an event loop of its own, a Prefect client, a read of the flow run and a websocket
subscription to every « Suspended » event of the server, so that a suspension asked by another process
(``suspend_flow_run`` given the run's id) stops the run at its next task. The product asks none: a stage
suspends itself at its gate (``flows.gates.ask``), where Prefect's ``suspend_flow_run`` stops the run
directly, and a run lasts seconds from its start to its gate.

Measured with py-spy on the national benchmark (PostgreSQL, 40 projects, 6 December 2026): the observer
took 7.9 % of the runs' CPU (its client, the flow-run read, the websocket and, since each run subscribes to
every run's « Suspended » event, the events of the other runs); the server spends more for each subscriber
(its backfill query, then each event filtered for every subscriber). The gain measured with and without
the patch is in ``flows/runtime/README.md``.

What the patch changes: a suspension asked from outside a running run no longer stops it at its next task.
Everything else of the engine's suspension handling is Prefect's.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from prefect import flow_engine


@contextmanager
def _unobserved(flow_run_id: Any, suspension_request: Any, polling_interval: float = 10) -> Iterator[None]:
    """Prefect's ``observe_flow_run_suspension`` without its observer: same parameters, nothing started."""
    yield


def install() -> None:
    """In a run's process, before its engine starts: the engine finds this function under Prefect's name."""
    flow_engine.observe_flow_run_suspension = _unobserved


def installed() -> bool:
    return flow_engine.observe_flow_run_suspension is _unobserved
