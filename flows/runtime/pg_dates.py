"""The Prefect server's dates sent to PostgreSQL without pendulum's subtraction (patch ``pg_dates``).

On Python 3.11 and 3.12 Prefect's server dates are pendulum ``DateTime`` objects. asyncpg encodes a
``timestamptz`` parameter as ``value.astimezone(utc) - 2000-01-01``: with a pendulum date that
subtraction is pendulum's, which builds a calendar ``Interval`` (years, months, days) and goes through
Prefect's deprecation wrapper, about 60 µs against 0.1 µs for the standard library's. The server sends
dates with every state, event, log and task-run row; under the national load (PostgreSQL, 40 projects)
py-spy found 11 % of the server's samples in that subtraction, most of them in the event persister's
inserts (``benchmarks/README.md``).

What we do, with documented mechanisms only (no Prefect name): a SQLAlchemy ``connect`` listener on every
pool of the server's process registers, on each new asyncpg connection, asyncpg's documented codec hook
(``Connection.set_type_codec``, format ``tuple``: microseconds since 2000-01-01 UTC) for ``timestamptz``.
The encoder computes the same number with the standard library's subtraction, called on the base class,
so a pendulum date costs what a standard one does; the decoder returns what asyncpg returns (an aware
UTC ``datetime``, ``datetime.max`` / ``datetime.min`` for ± infinity). SQLite connections are not
concerned. Reading costs a little more than asyncpg's C decoder: 40 000 dates fetched in 48.8 ms
instead of 38.0 ms (0.3 µs a date, 7 December 2026), against some 45 µs saved on each pendulum date
written. On Python 3.13 Prefect no longer uses pendulum and the patch changes nothing but the codec's
place (Python rather than asyncpg's C).

Switched off with ``SIAE_PREFECT_TUNING=0`` or ``SIAE_PREFECT_TUNING_OFF=pg_dates``.
Guard: ``tests/runtime/test_pg_dates.py`` compares every value with asyncpg's own codec on PostgreSQL.
"""

from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
from sqlalchemy import event
from sqlalchemy.pool import Pool

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
# asyncpg's binary ± infinity, and the values it maps them to (naive datetime.max and datetime.min).
INFINITY = 0x7FFFFFFFFFFFFFFF
NEGATIVE_INFINITY = -0x8000000000000000


def encode(value: date) -> tuple[int]:
    """asyncpg's ``timestamptz`` encoding, with the subtraction of ``datetime`` itself."""
    if not isinstance(value, datetime):  # a date: its midnight at the current local offset, as asyncpg does
        value = datetime(value.year, value.month, value.day, tzinfo=datetime.now(UTC).astimezone().tzinfo)
    if value.tzinfo is None:  # ± infinity are naive; comparing an aware date with them costs ~1 µs
        if value == datetime.max:
            return (INFINITY,)
        if value == datetime.min:
            return (NEGATIVE_INFINITY,)
    return (datetime.__sub__(datetime.astimezone(value, UTC), EPOCH) // MICROSECOND,)


def decode(value: tuple[int]) -> datetime:
    (microseconds,) = value
    if microseconds == INFINITY:
        return datetime.max
    if microseconds == NEGATIVE_INFINITY:
        return datetime.min
    return EPOCH + timedelta(microseconds=microseconds)


async def _register(connection: Any) -> None:
    await connection.set_type_codec(
        "timestamptz", schema="pg_catalog", encoder=encode, decoder=decode, format="tuple"
    )


def _on_connect(dbapi_connection: Any, _record: Any) -> None:
    if isinstance(getattr(dbapi_connection, "driver_connection", None), asyncpg.Connection):
        dbapi_connection.run_async(_register)


def install() -> None:
    """Every asyncpg connection opened from now on in this process gets the codec."""
    if not event.contains(Pool, "connect", _on_connect):
        event.listen(Pool, "connect", _on_connect)


def uninstall() -> None:
    if event.contains(Pool, "connect", _on_connect):
        event.remove(Pool, "connect", _on_connect)
