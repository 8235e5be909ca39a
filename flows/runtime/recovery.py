"""Runs left behind by a dead process are scheduled again, so that they replay and finish.

A run is executed by one process forked by a runner. If that process dies without a word (``kill -9`` of
the runner, a machine stopped, the Prefect server unreachable when the process gave up), nobody tells
the server: the run stays « Running » (or « Pending ») for good, and a decision that someone took in the
UI is neither recorded nor followed by the next stage. Prefect 3.8 has no service that notices it: its
flow-run heartbeats only feed automations, which this product does not run (see
:mod:`flows.runtime.launcher`).

Every runner therefore looks, when it starts and then every ``SIAE_RECOVERY_SECONDS``, for runs of the
deployments people wait on that are Running or Pending with no live process, and proposes « Scheduled »
for them: the runner takes them at once (:mod:`flows.runtime.wakeup`) and they replay. A replay is
idempotent by design: the answer is stored as run input, finished tasks return their stored results,
``decide`` is keyed by the gate, documents reuse identical drafts, e-mails go through ``send_once``.

Whether a run's process lives is known three ways:

* on this machine, by a lease: the process holds an exclusive ``flock`` on a file named after its run
  (:func:`hold_lease`) for as long as it lives; the kernel releases it when the process dies, however it
  dies. A lease that is free and dates from the run's current state means its process is dead: the run
  is scheduled again at once.
* a run left Pending for :data:`PENDING_STALE` with no process of this machine was claimed by a runner
  that died before starting its process;
* for a run that no process of this machine started, by Prefect's heartbeats
  (``PREFECT_FLOWS_HEARTBEAT_FREQUENCY``, every 30 s, set by every runner for its runs): none received for
  ``SIAE_RECOVERY_STALE_SECONDS`` (90 by default) means the process is gone with its machine.

Every delay is measured on the server's clock: its ``Date`` header for « now », the time it minted each
state, and the time it received each heartbeat (``received``, not the ``occurred`` that the beating
machine's own clock wrote). A runner whose clock is late or early therefore neither reschedules a run that
beats nor spares one that is silent.

A run that Prefect marked « Crashed » (its process was stopped by a signal, for instance the runner
stopped with SIGTERM while the run was suspending at its gate), or a stage run « Failed » (the Prefect
server, the database or the SMTP server was unreachable for longer than the clients retry) is scheduled
again too, after a pause that doubles at each attempt (10 s, 20 s, 40 s…): it replays up to where it
stopped, or up to its gate, which asks again. A run is scheduled again :data:`MAX_RECOVERIES` times
at most between two gates: one that fails at each replay is left for a person to look at (the runner's
log says so).

The proposal is not forced: Prefect's orchestration (``CoreFlowPolicy``) accepts Running, Pending,
Crashed or Failed to Scheduled (leaving a final state clears the run's pause keys, which the gates do not
need: they read the stored answer by key), and refuses it if the run has completed meanwhile. A run
waiting at its gate (Paused) is never touched. Free leases older than :data:`LEASE_KEPT` are removed.
"""

import asyncio
import fcntl
import os
from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from uuid import UUID

from prefect.client.orchestration import PrefectClient, get_client
from prefect.client.schemas.filters import (
    DeploymentFilter,
    DeploymentFilterId,
    FlowRunFilter,
    FlowRunFilterState,
    FlowRunFilterStateType,
)
from prefect.client.schemas.objects import FlowRun, State, StateType
from prefect.client.schemas.responses import SetStateStatus
from prefect.events.filters import (
    EventFilter,
    EventNameFilter,
    EventOccurredFilter,
    EventResourceFilter,
)
from prefect.logging import get_logger
from prefect.settings import get_current_settings
from prefect.states import Scheduled

LEASES = "runs-en-cours"
HEARTBEAT = "prefect.flow-run.heartbeat"
# A lease belongs to the run's current state when its process started within this delay of that state
# (Pending is proposed just before the process starts, Running by the process itself).
LEASE_MATCH = timedelta(seconds=60)
# A state younger than this is left alone: its process may be starting.
GRACE = timedelta(seconds=10)
MAX_RECOVERIES = 5
# Pending lasts from a runner's claim to its process's start: well under a second, a few under load.
PENDING_STALE = timedelta(seconds=30)
LEASE_KEPT = timedelta(days=7)
PRUNE_EVERY = timedelta(hours=1)
# Heartbeats are looked up by the time their machine wrote: this far around the server's now, whatever
# that machine's clock says; their freshness is then judged by the time the server received them.
CLOCK_SKEW = timedelta(days=1)
WATCHED = [StateType.RUNNING, StateType.PENDING, StateType.CRASHED, StateType.FAILED]
ENDED = (StateType.CRASHED, StateType.FAILED)
MESSAGE = (
    "Relancé : le processus qui exécutait ce run s'est arrêté (runner ou machine arrêtés). Le run "
    "reprend depuis ses résultats enregistrés ; ce qui est déjà fait ne sera pas refait."
)

logger = get_logger("runner.siae")
_held: list[int] = []
_given_up: set[UUID] = set()


def lease_dir() -> Path:
    return Path(get_current_settings().home) / LEASES


def hold_lease(flow_run_id: UUID | str | None, folder: Path | None = None) -> None:
    """In the run's process, before its engine starts: the lease lasts as long as the process."""
    if flow_run_id is None:
        return
    folder = folder or lease_dir()
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / str(flow_run_id), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:  # another live process holds it: it is that one's lease, not ours
        os.close(fd)
        return
    os.utime(fd)
    _held.append(fd)


def local_process(flow_run_id: UUID, since: datetime, folder: Path | None = None) -> bool | None:
    """True if a process of this machine runs it; False if the process this machine started for its
    state (at ``since``) is dead; None if no process of this machine started it for that state."""
    try:
        fd = os.open((folder or lease_dir()) / str(flow_run_id), os.O_RDWR)
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(fd, fcntl.LOCK_UN)
        started = datetime.fromtimestamp(os.fstat(fd).st_mtime, UTC)
        return False if abs(started - since) <= LEASE_MATCH else None
    finally:
        os.close(fd)


def prune_leases(folder: Path | None = None, now: datetime | None = None) -> int:
    """Remove the free leases older than :data:`LEASE_KEPT` (one empty file per run otherwise stays for
    good); a later process of the same run creates its lease again. Returns how many were removed."""
    folder = folder or lease_dir()
    limit = (now or datetime.now(UTC)) - LEASE_KEPT
    removed = 0
    for path in folder.glob("*") if folder.is_dir() else ():
        try:
            fd = os.open(path, os.O_RDWR)
        except FileNotFoundError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if datetime.fromtimestamp(os.fstat(fd).st_mtime, UTC) < limit:
                path.unlink(missing_ok=True)
                removed += 1
        except BlockingIOError:  # its process lives
            pass
        finally:
            os.close(fd)
    return removed


async def server_now(client: PrefectClient) -> datetime:
    """The server's time (its ``Date`` header, to the second); this machine's if the server sends none."""
    response = await client.hello()
    stamped = response.headers.get("date")
    if not stamped:
        return datetime.now(UTC)
    return parsedate_to_datetime(stamped).astimezone(UTC)


async def _beating(client: PrefectClient, run: FlowRun, since: datetime, now: datetime) -> bool:
    """Whether the server received a heartbeat of the run's process since ``since`` (server's clock)."""
    page = await client.read_events(
        EventFilter(
            occurred=EventOccurredFilter(since=now - CLOCK_SKEW, until=now + CLOCK_SKEW),
            event=EventNameFilter(name=[HEARTBEAT]),
            resource=EventResourceFilter(id=[f"prefect.flow-run.{run.id}"]),
        ),
        limit=5,
    )
    return any(event.received >= since for event in page.events)


async def orphans(
    client: PrefectClient,
    deployment_ids: Collection[UUID],
    stale: timedelta,
    retry_failed: Collection[UUID] = (),
    now: datetime | None = None,
    folder: Path | None = None,
) -> list[FlowRun]:
    """Runs of these deployments that are Crashed, Failed (those of ``retry_failed`` only), or Running or
    Pending with no live process (leases in ``folder``, by default this process's :func:`lease_dir`).
    ``now`` is the server's (:func:`server_now` by default)."""
    now = now or await server_now(client)
    runs = await client.read_flow_runs(
        flow_run_filter=FlowRunFilter(state=FlowRunFilterState(type=FlowRunFilterStateType(any_=WATCHED))),
        deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=list(deployment_ids))),
        limit=200,
    )
    found: list[FlowRun] = []
    remote: list[FlowRun] = []  # Running with no process of this machine: the heartbeats tell
    for run in runs:
        if run.state is None or run.state.timestamp is None or now - run.state.timestamp < GRACE:
            continue
        if run.state.type in ENDED:
            if run.state.type == StateType.CRASHED or run.deployment_id in retry_failed:
                found.append(run)
            continue
        here = local_process(run.id, run.state.timestamp, folder)
        if here is False:
            found.append(run)
        elif here is None and run.state.type == StateType.PENDING:
            if now - run.state.timestamp >= PENDING_STALE:  # taken by a runner that died before forking
                found.append(run)
        elif here is None and now - run.state.timestamp >= stale:
            remote.append(run)
    for run in remote:
        if not await _beating(client, run, now - stale, now):
            found.append(run)
    return found


def _recoveries(history: list[State]) -> int:
    """How many times the run was scheduled again since it last waited at a gate (Paused)."""
    count = 0
    for state in sorted(history, key=lambda state: state.timestamp or datetime.min.replace(tzinfo=UTC)):
        if state.type == StateType.PAUSED:
            count = 0
        elif state.message == MESSAGE:
            count += 1
    return count


async def recover(
    client: PrefectClient,
    deployment_ids: Collection[UUID],
    stale: timedelta,
    retry_failed: Collection[UUID] = (),
) -> list[UUID]:
    """Schedule again every orphaned run; returns those the server accepted to schedule."""
    done: list[UUID] = []
    now = await server_now(client)
    for run in await orphans(client, deployment_ids, stale, retry_failed, now):
        assert run.state is not None and run.state.timestamp is not None
        if run.id in _given_up:
            continue
        attempts = _recoveries(await client.read_flow_run_states(run.id))
        if run.state.type in ENDED and now - run.state.timestamp < GRACE * 2**attempts:
            continue  # not yet: the server, database or mail server it failed on may still be down
        if attempts >= MAX_RECOVERIES:
            _given_up.add(run.id)
            logger.error(
                "Run %s (%s) relancé %d fois sans aboutir : à examiner.", run.id, run.name, MAX_RECOVERIES
            )
            continue
        proposed = await client.set_flow_run_state(run.id, Scheduled(message=MESSAGE))  # type: ignore[var-annotated]
        if proposed.status == SetStateStatus.ACCEPT:
            logger.warning(
                "Run %s (%s) resté « %s » : replanifié, il va reprendre.",
                run.id,
                run.name,
                run.state.name,
            )
            done.append(run.id)
    return done


async def watch(
    deployment_ids: Collection[UUID], period: float, stale: timedelta, retry_failed: Collection[UUID] = ()
) -> None:
    """Until cancelled: a recovery pass now, then every ``period`` seconds; a failed pass is retried."""
    pruned = datetime.min.replace(tzinfo=UTC)
    while True:
        try:
            if datetime.now(UTC) - pruned > PRUNE_EVERY:
                pruned = datetime.now(UTC)
                await asyncio.to_thread(prune_leases)
            async with get_client() as client:
                await recover(client, deployment_ids, stale, retry_failed)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the server may be down: the next pass tries again
            logger.warning(
                "Recherche des runs orphelins impossible (%s) ; nouvel essai dans %.0f s.", exc, period
            )
        await asyncio.sleep(period)
