"""The Prefect server's SQLite connections give up waiting for the write lock after a few seconds."""

import asyncio
from pathlib import Path

import pytest
from prefect.server.database.configurations import AioSqliteConfiguration

from flows import prefect_server


async def _pragmas(url: str) -> tuple[int, str]:
    engine = await AioSqliteConfiguration(connection_url=url).engine()
    try:
        async with engine.connect() as connection:
            wait = (await connection.exec_driver_sql("PRAGMA busy_timeout")).scalar_one()
            journal = (await connection.exec_driver_sql("PRAGMA journal_mode")).scalar_one()
            return int(wait), str(journal)
    finally:
        await engine.dispose()


def test_each_connection_waits_the_shorter_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(AioSqliteConfiguration, "setup_sqlite", AioSqliteConfiguration.setup_sqlite)
    before = asyncio.run(_pragmas(f"sqlite+aiosqlite:///{tmp_path / 'avant.db'}"))
    prefect_server.install()
    after = asyncio.run(_pragmas(f"sqlite+aiosqlite:///{tmp_path / 'apres.db'}"))
    assert before == (60000, "wal") and after == (
        prefect_server.LOCK_WAIT_MS,
        "wal",
    )  # Prefect's set-up stays
    assert AioSqliteConfiguration.setup_sqlite is prefect_server.setup_sqlite
