"""Prefect's server, adjusted for SQLite: ``python -m flows.runtime.server server start …`` takes the
arguments of ``prefect server start``. PostgreSQL is not concerned by either adjustment; its dates are
encoded without pendulum (``pg_dates``, :mod:`flows.runtime.pg_dates`).

**A shorter lock wait.** The SQLite server used to freeze for a whole minute now and then. Traced with
py-spy: Python's garbage collector, running in the server's event loop, frees a SQLite cursor whose
connection is busy in its own thread, waiting for the write lock; freeing the cursor waits for that
connection, and the lock belongs to a transaction that only the frozen loop can finish. The deadlock
lasts until the waiting write gives up, after the 60 s that Prefect sets on every connection. The
write that gives up fails either way (Prefect's clients and its task-run recorder retry it); giving up
after :data:`LOCK_WAIT_MS` ends the freeze that much sooner.

**Run creation takes the write lock first.** Creating a stage's run reads the deployment, its
variables and its parameter schema before it writes, in a deferred transaction. Right after a
decision the server is recording that run's task states, and when one of those writes commits during
the reads, SQLite refuses the creation at once (« database is locked »: a deferred transaction cannot
write over a newer snapshot); the client asks again, and was refused 3 to 6 times in a row, 0.5 s
in all, while people waited for the next stage. In :data:`IMMEDIATE_PATHS` the transaction begins
``IMMEDIATE``, as Prefect already does for the writes it knows to be contended: it waits its turn
for the lock instead of failing after its reads.

**So does a resume.** A resume reads the run, its state and the form's schema, then writes the answer
and the new state. When a COPIL room decides together, twenty resumes arrive at once; as deferred
transactions, each one whose reads another resume's commit had overtaken was refused at once, again
and again: after the client's twenty tries, 3 to 7 of 20 simultaneous resumes were accepted (8 of 50).
Beginning ``IMMEDIATE``, they wait their turn: 20 of 20, 50 of 50 (``benchmarks/concurrent_approvals.py``).

**In a queue of the server's own.** Waiting its turn inside SQLite meant polling the lock (SQLite's busy
handler sleeps, tries, sleeps longer) within :data:`LOCK_WAIT_MS`: on a loaded machine the resumes of
a room needed more than those 5 s together, and whoever the polling had left behind was refused with
HTTP 503 (``tests/runtime/test_server.py``, a room of simultaneous resumes each sent once, failed so in
the suite on a slow evening, 7 December). So these transactions queue first in the server's event loop,
in arrival order and without a time limit, then begin ``IMMEDIATE`` one at a time: each waits for the
one before it, not for SQLite's lock wait. Only the requests of :data:`IMMEDIATE_PATHS` queue, each
once (a transaction inside another does not queue again), and only on SQLite; other writers still meet
them at SQLite's lock, as before. Measured at 50 simultaneous (``benchmarks/concurrent_approvals.py``,
SQLite, 7 December): 50 of 50 accepted either way, the last answer after 4.2 and 4.5 s against 4.1 s,
but the median person answered after 2.4 and 2.7 s against 1.0 s: in a queue the median waits for half
the room, where the polling had let some in early and others late. Refusing nobody is worth it.

Each adjustment is a patch that :mod:`flows.runtime.tuning` can switch off (``sqlite_lock_wait``,
``sqlite_immediate``), and so are the garbage collector's settings (``gc_heap``, on every backend, see
:mod:`flows.runtime.heap`); with ``SIAE_PREFECT_TUNING=0`` this is ``prefect server start`` as released.

Guard: ``tests/runtime/test_server.py`` and ``tests/runtime/test_private_names.py`` fail if Prefect's
SQLite set-up (``setup_sqlite``) or its ASGI application change shape.
"""

import asyncio
import re
import weakref
from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any

from prefect.cli import app
from prefect.server.api import server
from prefect.server.database.configurations import AioSqliteConfiguration

from flows.runtime import heap, pg_dates, tuning

LOCK_WAIT_MS = 5000
IMMEDIATE_PATHS = re.compile(r"^/api/(deployments/[^/]+/create_flow_run|flow_runs/[^/]+/resume)$")

_immediate = ContextVar("siae_sqlite_immediate", default=False)
_queued = ContextVar("siae_sqlite_queued", default=False)
# One queue per event loop (a test, or a server started twice in one process, has several).
_queues: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()
# Prefect's own, kept before any install (the tests restore them from here).
PREFECT_SETUP_SQLITE = AioSqliteConfiguration.setup_sqlite
PREFECT_BEGIN_TRANSACTION = AioSqliteConfiguration.begin_transaction
PREFECT_CREATE_APP = server.create_app


def setup_sqlite(self: AioSqliteConfiguration, conn: Any, record: Any) -> None:
    """Prefect's set-up of each new SQLite connection, then the shorter lock wait."""
    PREFECT_SETUP_SQLITE(self, conn, record)
    cursor = conn.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {LOCK_WAIT_MS};")
    cursor.close()


def _queue() -> asyncio.Lock:
    loop = asyncio.get_running_loop()
    queue = _queues.get(loop)
    if queue is None:
        queue = _queues[loop] = asyncio.Lock()  # FIFO: waiters are woken in arrival order
    return queue


@asynccontextmanager
async def begin_transaction(
    self: AioSqliteConfiguration, session: Any, with_for_update: bool = False
) -> AsyncIterator[Any]:
    if not _immediate.get() or _queued.get():
        async with PREFECT_BEGIN_TRANSACTION(
            self, session, with_for_update=with_for_update or _immediate.get()
        ) as transaction:
            yield transaction
        return
    async with _queue():
        token = _queued.set(True)
        try:
            async with PREFECT_BEGIN_TRANSACTION(self, session, with_for_update=True) as transaction:
                yield transaction
        finally:
            _queued.reset(token)


class ImmediateWrites:
    """ASGI middleware: the requests to :data:`IMMEDIATE_PATHS` begin their transactions IMMEDIATE."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or not IMMEDIATE_PATHS.match(scope["path"]):
            await self.app(scope, receive, send)
            return
        token = _immediate.set(True)
        try:
            await self.app(scope, receive, send)
        finally:
            _immediate.reset(token)


def create_app(*args: Any, **kwargs: Any) -> Any:
    fastapi_app = PREFECT_CREATE_APP(*args, **kwargs)
    if not any(m.cls is ImmediateWrites for m in fastapi_app.user_middleware):
        fastapi_app.add_middleware(ImmediateWrites)
    return fastapi_app


def install(patches: Collection[str] = tuning.PATCHES) -> None:
    """The SQLite adjustments switched on, PostgreSQL's dates (:mod:`flows.runtime.pg_dates`); last, the
    garbage collector's settings (:mod:`flows.runtime.heap`)."""
    if tuning.SQLITE_LOCK_WAIT in patches:
        AioSqliteConfiguration.setup_sqlite = setup_sqlite  # type: ignore[method-assign]
    if tuning.SQLITE_IMMEDIATE in patches:
        AioSqliteConfiguration.begin_transaction = begin_transaction  # type: ignore[method-assign]
        server.create_app = create_app
    if tuning.PG_DATES in patches:
        pg_dates.install()
    if tuning.GC_HEAP in patches:
        heap.settle_server()


if __name__ == "__main__":
    install(tuning.active())
    app()
