"""Prefect's server with a shorter SQLite lock wait: ``python -m flows.prefect_server server start …``
takes the arguments of ``prefect server start``.

The SQLite server used to freeze for a whole minute now and then. Traced with py-spy: Python's garbage
collector, running in the server's event loop, frees a SQLite cursor whose connection is busy in its
own thread, waiting for the write lock; freeing the cursor waits for that connection, and the lock
belongs to a transaction that only the frozen loop can finish. The deadlock lasts until the waiting
write gives up, after the 60 s that Prefect sets on every connection. The write that gives up fails
either way (Prefect's clients and its task-run recorder retry it); giving up after
:data:`LOCK_WAIT_MS` ends the freeze that much sooner. PostgreSQL is not concerned.
"""

from typing import Any

from prefect.cli import app
from prefect.server.database.configurations import AioSqliteConfiguration

LOCK_WAIT_MS = 5000

_prefect_setup_sqlite = AioSqliteConfiguration.setup_sqlite


def setup_sqlite(self: AioSqliteConfiguration, conn: Any, record: Any) -> None:
    """Prefect's set-up of each new SQLite connection, then the shorter lock wait."""
    _prefect_setup_sqlite(self, conn, record)
    cursor = conn.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {LOCK_WAIT_MS};")
    cursor.close()


def install() -> None:
    AioSqliteConfiguration.setup_sqlite = setup_sqlite  # type: ignore[method-assign]


if __name__ == "__main__":
    install()
    app()
