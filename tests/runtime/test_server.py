"""The Prefect server's SQLite adjustments: a shorter lock wait, and run creation and resumes that take the
write lock before they read."""

import asyncio
import gc
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from contextvars import Context
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from flows.harness.local import auth_headers
from flows.runtime import heap, tuning
from flows.runtime import server as prefect_server
from tests.flow_stack import FlowStack

AioSqliteConfiguration = prefect_server.AioSqliteConfiguration
server = prefect_server.server


@pytest.fixture(autouse=True)
def stock_server(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts from Prefect's own server code, restored after it."""
    monkeypatch.setattr(AioSqliteConfiguration, "setup_sqlite", prefect_server.PREFECT_SETUP_SQLITE)
    monkeypatch.setattr(AioSqliteConfiguration, "begin_transaction", prefect_server.PREFECT_BEGIN_TRANSACTION)
    monkeypatch.setattr(server, "create_app", prefect_server.PREFECT_CREATE_APP)


@pytest.fixture
def adjusted(stock_server: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every adjustment installed, on Prefect's own code that ``stock_server`` restores after the test."""
    monkeypatch.setattr(AioSqliteConfiguration, "setup_sqlite", AioSqliteConfiguration.setup_sqlite)
    monkeypatch.setattr(AioSqliteConfiguration, "begin_transaction", AioSqliteConfiguration.begin_transaction)
    monkeypatch.setattr(server, "create_app", server.create_app)
    prefect_server.install()


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


async def _snapshot_conflict(url: str, immediate: bool) -> str:
    """A write transaction reads, another connection commits a write, then the first one writes."""
    config = AioSqliteConfiguration(connection_url=url)
    engine = await config.engine()
    try:
        async with engine.begin() as connection:
            await connection.exec_driver_sql("CREATE TABLE t (n INTEGER)")
        session = await config.session(engine)
        async with session:
            token = prefect_server._immediate.set(immediate)
            try:
                async with config.begin_transaction(session):
                    await session.execute(text("SELECT count(*) FROM t"))

                    async def other_writer() -> None:
                        async with engine.connect() as other:  # no BEGIN: one autocommitted write
                            await other.exec_driver_sql("INSERT INTO t VALUES (1)")

                    # In a context of its own, as another request's: outside this transaction's mode.
                    waiting = asyncio.get_running_loop().create_task(other_writer(), context=Context())
                    if immediate:
                        # It waits for the lock that this transaction holds, then writes after it.
                        await asyncio.sleep(0.2)
                        assert not waiting.done()
                    else:
                        await waiting
                    await session.execute(text("INSERT INTO t VALUES (2)"))
            except OperationalError as exc:
                return str(exc.orig)
            finally:
                prefect_server._immediate.reset(token)
        await waiting
        async with engine.connect() as connection:
            rows = (await connection.exec_driver_sql("SELECT n FROM t ORDER BY rowid")).scalars().all()
        return f"écrit {rows}"
    finally:
        await engine.dispose()


def test_marked_requests_take_the_write_lock_before_reading(tmp_path: Path, adjusted: None) -> None:
    deferred = asyncio.run(_snapshot_conflict(f"sqlite+aiosqlite:///{tmp_path / 'differee.db'}", False))
    immediate = asyncio.run(_snapshot_conflict(f"sqlite+aiosqlite:///{tmp_path / 'immediate.db'}", True))
    assert deferred == "database is locked"  # what the client got as a 503, several times in a row
    assert immediate == "écrit [2, 1]"


async def _room(url: str, people: int) -> tuple[list[int], list[str]]:
    """``people`` marked write transactions begun at once, each one holding SQLite's write lock for three
    times its lock wait: the order of their rows in the table, and SQLite's refusals."""
    config = AioSqliteConfiguration(connection_url=url)
    engine = await config.engine()
    refused: list[str] = []
    try:
        async with engine.begin() as connection:
            await connection.exec_driver_sql("CREATE TABLE t (n INTEGER)")
        arrived = [asyncio.Event() for _ in range(people)]

        async def person(n: int) -> None:
            if n:
                await arrived[n - 1].wait()  # arrival order: n after n - 1
            session = await config.session(engine)
            token = prefect_server._immediate.set(True)
            try:
                async with session:
                    arrived[n].set()
                    async with config.begin_transaction(session):
                        await session.execute(text(f"INSERT INTO t VALUES ({n})"))
                        await asyncio.sleep(3 * prefect_server.LOCK_WAIT_MS / 1000)
                        # A transaction inside the request's does not queue behind itself.
                        async with await config.session(engine) as inner, config.begin_transaction(inner):
                            pass
            except OperationalError as exc:
                refused.append(str(exc.orig))
            finally:
                prefect_server._immediate.reset(token)

        await asyncio.wait_for(asyncio.gather(*(person(n) for n in range(people))), timeout=120)
        async with engine.connect() as connection:
            written = list((await connection.exec_driver_sql("SELECT n FROM t ORDER BY rowid")).scalars())
        return written, refused
    finally:
        await engine.dispose()


def test_a_room_of_resumes_queues_in_the_server_instead_of_polling_sqlites_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, adjusted: None
) -> None:
    """Each resume holds the lock longer than the lock wait: none is refused, each writes in its turn."""
    monkeypatch.setattr(prefect_server, "LOCK_WAIT_MS", 50)
    written, refused = asyncio.run(_room(f"sqlite+aiosqlite:///{tmp_path / 'salle.db'}", 6))
    assert refused == []
    assert written == list(range(6))


async def _marked(path: str, method: str = "POST") -> bool:
    async def endpoint(scope: Any, receive: Any, send: Any) -> None:
        body = str(prefect_server._immediate.get()).encode()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})

    transport = httpx.ASGITransport(app=prefect_server.ImmediateWrites(endpoint))
    async with httpx.AsyncClient(transport=transport, base_url="http://serveur") as client:
        response = await client.request(method, path)
    return response.text == "True"


def test_only_run_creation_from_a_deployment_and_resume_are_marked() -> None:
    assert asyncio.run(_marked("/api/deployments/de8a430b-9545/create_flow_run"))
    assert asyncio.run(_marked("/api/flow_runs/de8a430b-9545/resume"))
    assert not asyncio.run(_marked("/api/deployments/de8a430b-9545/create_flow_run", "GET"))
    assert not asyncio.run(_marked("/api/flow_runs/"))
    assert not asyncio.run(_marked("/api/flow_runs/de8a430b-9545/set_state"))
    assert not asyncio.run(_marked("/api/flow_runs/de8a430b-9545/resume/x"))
    assert not prefect_server._immediate.get()


def test_the_server_app_gets_the_middleware_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(server, "create_app", server.create_app)
    prefect_server.install()
    app = server.create_app(webserver_only=True, ignore_cache=True)
    app = server.create_app(webserver_only=True)  # Prefect's cache returns the same app
    assert [m.cls for m in app.user_middleware].count(prefect_server.ImmediateWrites) == 1


@pytest.mark.prefect
def test_a_room_deciding_together_has_every_resume_accepted(flow_stack: FlowStack) -> None:
    """Ten runs waiting at a gate, resumed at the same instant, each request sent once: none is refused
    (a resume's deferred transaction was refused with HTTP 503 as soon as another resume had committed)."""
    api = flow_stack.api
    flow_id = api.post("/flows/", {"name": "essai-reprises-simultanees"})["id"]
    keyset = {"response": "porte-reponse", "schema": "porte-schema", "description": "porte-description"}
    schema = {
        "type": "object",
        "properties": {"approbateur": {"type": "string"}},
        "required": ["approbateur"],
    }
    runs = []
    for n in range(10):
        run = api.post("/flow_runs/", {"flow_id": flow_id, "name": f"essai-reprise-{n}"})["id"]
        api.post(f"/flow_runs/{run}/input", {"key": "porte-schema", "value": json.dumps(schema)})
        paused = {"pause_key": "porte", "pause_reschedule": False, "run_input_keyset": keyset}
        state = {"type": "PAUSED", "name": "Suspended", "state_details": paused}
        api.post(f"/flow_runs/{run}/set_state", {"state": state, "force": True})
        runs.append(run)
    barrier = threading.Barrier(len(runs))

    def resume(run: str) -> tuple[int, str]:
        with httpx.Client(
            base_url=flow_stack.stack.api_url, timeout=60, headers=auth_headers(flow_stack.stack.env)
        ) as http:
            barrier.wait()
            answer = http.post(
                f"/flow_runs/{run}/resume", json={"run_input": {"approbateur": "a@exemple.fr"}}
            )
        if not answer.is_success:
            return answer.status_code, answer.text[:200]
        return answer.status_code, str(answer.json().get("status"))

    with ThreadPoolExecutor(len(runs)) as pool:
        answers = list(pool.map(resume, runs))
    assert answers == [(201, "ACCEPT")] * len(runs)  # 201: the run's new state was created
    assert {api.get(f"/flow_runs/{run}/input/porte-reponse")["approbateur"] for run in runs} == {
        "a@exemple.fr"
    }


def test_each_adjustment_is_switched_on_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    """With ``SIAE_PREFECT_TUNING=0`` the server is Prefect's as released; each patch can go alone."""

    def current() -> tuple[object, object, object]:
        return (
            AioSqliteConfiguration.setup_sqlite,
            AioSqliteConfiguration.begin_transaction,
            server.create_app,
        )

    stock = current()
    assert prefect_server.setup_sqlite not in stock
    prefect_server.install(frozenset())
    assert current() == stock
    prefect_server.install({tuning.SQLITE_LOCK_WAIT})
    assert current() == (prefect_server.setup_sqlite, stock[1], stock[2])
    prefect_server.install({tuning.SQLITE_IMMEDIATE})
    assert current() == (
        prefect_server.setup_sqlite,
        prefect_server.begin_transaction,
        prefect_server.create_app,
    )


def test_the_garbage_collector_settles_only_with_its_switch() -> None:
    """``gc_heap``: the server's start-up heap frozen and a larger first generation; nothing without it."""
    before, frozen = gc.get_threshold(), gc.get_freeze_count()
    try:
        prefect_server.install({tuning.SQLITE_LOCK_WAIT, tuning.SQLITE_IMMEDIATE})
        assert gc.get_threshold() == before and gc.get_freeze_count() == frozen
        prefect_server.install({tuning.GC_HEAP})
        assert gc.get_threshold() == (heap.FIRST_GENERATION, *before[1:])
        assert gc.get_freeze_count() > frozen
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
