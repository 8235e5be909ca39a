"""``pg_dates``: the server's ``timestamptz`` codec gives PostgreSQL and the server what asyncpg's own does."""

import asyncio
import importlib.util
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import asyncpg
import pytest
from postgres_server import PG_ADMIN
from psycopg.conninfo import conninfo_to_dict
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import Pool

from flows.runtime import pg_dates, tuning
from flows.runtime import server as prefect_server

pytestmark = [pytest.mark.postgres, pytest.mark.usefixtures("postgres_available")]

ADMIN = {name: str(value) for name, value in conninfo_to_dict(PG_ADMIN).items()}


def _pendulum_dates() -> list[Any]:
    """Prefect's dates on Python 3.11 and 3.12, the reason for the patch (Prefect drops pendulum on 3.13)."""
    if importlib.util.find_spec("pendulum") is None:
        return []
    pendulum = importlib.import_module("pendulum")
    return [
        pendulum.datetime(2026, 10, 25, 2, 30, 0, 42, tz="Europe/Paris"),
        pendulum.datetime(2026, 12, 7, 1, 2, 3, 456789, tz="UTC"),
    ]


SENT: list[Any] = [
    datetime(2026, 12, 7, 9, 30, 15, 123456, tzinfo=UTC),
    datetime(2026, 3, 29, 2, 30, tzinfo=timezone(timedelta(hours=5, minutes=30))),
    datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),  # before PostgreSQL's epoch
    datetime(2026, 7, 14, 8, 0),  # naive: local time, as asyncpg reads it
    date(2026, 1, 1),
    datetime.max,
    datetime.min,
    *_pendulum_dates(),
]
RECEIVED = ["2026-12-07 09:30:15.123456+00", "1999-12-31 23:59:59.999999+00", "infinity", "-infinity"]


async def _connect(with_codec: bool) -> asyncpg.Connection:
    connection = await asyncpg.connect(
        host=ADMIN["host"], port=int(ADMIN["port"]), user=ADMIN["user"], database=ADMIN["dbname"]
    )
    await connection.execute("SET TIME ZONE 'UTC'")  # the text compared below is printed in UTC
    if with_codec:
        await pg_dates._register(connection)
    return connection


async def _round_trips(with_codec: bool) -> tuple[list[str], list[Any]]:
    connection = await _connect(with_codec)
    try:
        stored = [await connection.fetchval("SELECT $1::timestamptz::text", value) for value in SENT]
        read = [await connection.fetchval("SELECT $1::text::timestamptz", value) for value in RECEIVED]
    finally:
        await connection.close()
    return stored, read


def test_the_codec_sends_and_reads_every_date_as_asyncpg_does() -> None:
    """Stored to the microsecond as asyncpg stores it (pendulum, other zones, naive, date, ± infinity),
    and read back as the same objects, with the same type and zone."""
    stored, read = asyncio.run(_round_trips(with_codec=False))
    assert asyncio.run(_round_trips(with_codec=True)) == (stored, read)
    assert [(type(value), value.tzinfo) for value in read] == [(datetime, UTC)] * 2 + [(datetime, None)] * 2
    if len(SENT) > 7:  # The 2:30 of Paris the night summer time ends comes twice; pendulum takes the second.
        assert stored[7] == "2026-10-25 01:30:00.000042+00"


@pytest.fixture
def installed() -> Iterator[None]:
    """The listener is process-wide: each test starts and ends without it."""
    pg_dates.uninstall()
    yield
    pg_dates.uninstall()


async def _through_sqlalchemy(calls: list[Any]) -> datetime:
    url = f"postgresql+asyncpg://{ADMIN['user']}@{ADMIN['host']}:{ADMIN['port']}/{ADMIN['dbname']}"
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            value = datetime(2026, 12, 7, 10, tzinfo=timezone(timedelta(hours=1)))
            result = await connection.scalar(text("SELECT CAST(:d AS timestamptz)"), {"d": value})
    finally:
        await engine.dispose()
    assert calls, "the server's connection did not use the codec"
    return result


def test_the_server_switch_installs_the_codec_on_its_postgresql_connections(
    installed: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[Any] = []
    encode = pg_dates.encode

    def counted(value: Any) -> tuple[int]:
        calls.append(value)
        return encode(value)

    monkeypatch.setattr(pg_dates, "encode", counted)
    prefect_server.install(frozenset())  # SIAE_PREFECT_TUNING=0
    assert not event.contains(Pool, "connect", pg_dates._on_connect)
    prefect_server.install({tuning.PG_DATES})
    assert event.contains(Pool, "connect", pg_dates._on_connect)
    assert asyncio.run(_through_sqlalchemy(calls)) == datetime(2026, 12, 7, 9, tzinfo=UTC)
