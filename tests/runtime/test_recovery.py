"""No decision lost when a process dies: runner killed with SIGKILL, Prefect server killed, PostgreSQL
restarted, each at a chosen moment of a stage; every time the stage completes, and each decision,
document and e-mail exists once. The runner and server kills run on SQLite, then with the application
and the Prefect server on PostgreSQL.

The moment is chosen by a fault point (:mod:`implantation.fault_points`), never by a sleep: the run's process
kills its whole process group (runner, forkserver, runs) when it reaches it, or waits there while the
test kills or restarts a server.
"""

import asyncio
import fcntl
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from factories import complete_for_documents, decide, stage_work
from postgres_server import DATABASES, require_postgres
from prefect.client.orchestration import PrefectClient
from prefect.states import Cancelled, Paused, Running, Scheduled
from private_postgres import private_cluster
from sqlmodel import select

from flows.harness.local import LocalStack, flow_processes, start_server
from flows.harness.sandbox import Sandbox, sandbox
from flows.harness.scenario import SCENARIO_TODAY, Driver, gate
from flows.runtime.recovery import (
    GRACE,
    HEARTBEAT,
    LEASES,
    MESSAGE,
    _recoveries,
    local_process,
    orphans,
    prune_leases,
    server_now,
)
from implantation.config.loader import demo_config, load_process_config
from implantation.config.schema import ProcessConfig
from implantation.db.models import (
    DocumentRecord,
    ImplantationProject,
    NotificationRecord,
    Person,
    StageRecord,
    TransitionLog,
)
from implantation.db.session import session_scope
from implantation.enums import Decision, StageStatus
from implantation.fault_points import VARIABLE
from implantation.keys import stage_attempt_key
from implantation.services import workflow
from implantation.services.decisions import DecisionRequest


def test_a_fault_point_kills_its_process_group_once(tmp_path: Path) -> None:
    marker = tmp_path / "faute"
    code = "from implantation import fault_points; fault_points.point('decision'); print('passé')"
    env = {**os.environ, VARIABLE: f"decision:{marker}"}

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", code],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            start_new_session=True,
        )

    first = run()
    assert first.returncode == -signal.SIGKILL and marker.exists()
    second = run()  # the replay after the restart goes through
    assert second.returncode == 0 and second.stdout.strip() == "passé"


def test_a_fault_point_left_waiting_ends_its_process(tmp_path: Path) -> None:
    """A test that failed before releasing a waiting run does not leave that process behind for good."""
    marker = tmp_path / "faute"
    code = (
        "from flows.harness import faults; from implantation import fault_points; faults.WAIT_LIMIT = 0.5; "
        "fault_points.point('decision'); print('passé')"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, VARIABLE: f"decision:{marker}:attendre"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == -signal.SIGKILL and marker.exists() and done.stdout == ""


def test_a_lease_tells_a_live_process_from_a_dead_one(tmp_path: Path) -> None:
    run_id = uuid.uuid4()
    code = (
        "import sys; from pathlib import Path; from flows.runtime.recovery import hold_lease; "
        f"hold_lease('{run_id}', Path(sys.argv[1])); print('tenu', flush=True); sys.stdin.read()"
    )
    assert local_process(run_id, datetime.now(UTC), tmp_path) is None  # never run here
    with subprocess.Popen(
        [sys.executable, "-c", code, str(tmp_path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as holder:
        try:
            assert holder.stdout is not None and holder.stdout.readline().strip() == "tenu"
            started = datetime.now(UTC)
            assert local_process(run_id, started, tmp_path) is True
        finally:
            holder.kill()
            holder.wait(timeout=30)
    assert local_process(run_id, started, tmp_path) is False
    # The same lease, for a state entered long after that process started: not this machine's to judge.
    assert local_process(run_id, started + timedelta(minutes=5), tmp_path) is None


prefect = pytest.mark.prefect

# The tests' runners look for orphaned runs every second (15 s in production).
RECOVERY_ENV = {"SIAE_RECOVERY_SECONDS": "1"}


@dataclass
class World:
    box: Sandbox
    cfg: ProcessConfig
    folder: Path

    @property
    def stack(self) -> LocalStack:
        return self.box.stack

    def driver(self) -> Driver:
        return Driver(
            self.box.api,
            self.box.engine,
            self.cfg,
            self.box.ids,
            sink=self.box.sink,
            app_env=self.box.stack.env,
        )

    def runner_with_fault(self, point: str | None, action: str = "") -> Path:
        """A new runner whose runs break at ``point``; returns the marker file the fault creates."""
        marker = self.folder / f"faute-{point}-{time.monotonic_ns()}"
        if point:
            self.stack.env[VARIABLE] = f"{point}:{marker}" + (f":{action}" if action else "")
        else:
            self.stack.env.pop(VARIABLE, None)
        runner = self.stack.service("runner")
        deadline = time.monotonic() + 60
        while runner.alive() and flow_processes(runner.pid):  # a run still exiting after its gate
            assert time.monotonic() < deadline, "des runs tournent encore"
            time.sleep(0.1)
        self.stack.restart_runner(schedules=False)
        return marker

    def wait_killed(self, marker: Path, timeout: float = 180) -> None:
        """The fault fired and took the runner down with every process of its group."""
        runner = self.stack.service("runner")
        deadline = time.monotonic() + timeout
        while not marker.exists():
            assert time.monotonic() < deadline, f"le point de faute {marker.name} n'a pas été atteint"
            assert runner.alive(), (
                f"le runner s'est arrêté sans atteindre {marker.name}:\n{runner.log_tail()}"
            )
            time.sleep(0.1)
        runner.process.wait(timeout=30)


def test_only_free_and_old_leases_are_pruned(tmp_path: Path) -> None:
    old, recent = uuid.uuid4(), uuid.uuid4()
    for run_id in (old, recent):
        (tmp_path / str(run_id)).touch()
    week_ago = (datetime.now(UTC) - timedelta(days=8)).timestamp()
    os.utime(tmp_path / str(old), (week_ago, week_ago))
    held = os.open(tmp_path / str(old), os.O_RDWR)
    try:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)  # a live process of that run
        assert prune_leases(tmp_path) == 0
    finally:
        os.close(held)
    assert prune_leases(tmp_path) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == [str(recent)]


def test_recoveries_are_counted_since_the_last_gate() -> None:
    start = datetime(2026, 10, 1, tzinfo=UTC)
    kinds = [
        Scheduled(message=MESSAGE),
        Running(),
        Scheduled(message=MESSAGE),
        Running(),
        Paused(),  # the stage reached its gate: what came before is settled
        Scheduled(message=MESSAGE),
        Running(),
    ]
    history = [
        state.model_copy(update={"timestamp": start + timedelta(seconds=n)}) for n, state in enumerate(kinds)
    ]
    assert _recoveries(list(reversed(history))) == 1
    assert _recoveries(history[:4]) == 2


def _world(base: Path, database_url: str, prefect_url: str | None = None) -> Iterator[World]:
    config_dir = demo_config(base / "config")
    extra = {"SIAE_CONFIG_DIR": str(config_dir), **RECOVERY_ENV}
    with sandbox(
        base, database_url, base / "data", prefect_database_url=prefect_url, extra=extra, today=SCENARIO_TODAY
    ) as box:
        box.stack.start(schedules=False)
        yield World(box, load_process_config(config_dir), base)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """Application and Prefect server on SQLite, then both on PostgreSQL (databases of their own on the
    shared server: these tests kill the runner and the Prefect server, never PostgreSQL)."""
    base = tmp_path_factory.mktemp(f"reprise-{request.param}")
    if request.param == "sqlite":
        yield from _world(base, f"sqlite:///{base / 'siae.db'}")
        return
    require_postgres()
    names = [DATABASES.create("siae_reprise"), DATABASES.create("siae_reprise_prefect")]
    try:
        yield from _world(base, DATABASES.url(names[0]), DATABASES.url(names[1], "postgresql+asyncpg"))
    finally:
        DATABASES.drop(*names)


def _stage1_ready(w: World) -> tuple[int, str, dict[str, Any]]:
    """A project waiting at stage 1's gate with the work its approval needs; the run and the answer."""
    d = w.driver()
    projet_id = d.start()
    d.stage_work(projet_id, 1)
    d.enter_facts(projet_id, 1, d.launch_date(d.today + timedelta(days=60)))
    run_id, _details = d.wait_gate(projet_id, 1)
    email = d.email("cheffe.projet.disp")
    return projet_id, run_id, gate(email, code=d.received_code(projet_id, 1, email))


def _resume(w: World, run_id: str, answer: dict[str, Any]) -> str:
    """The click on « Reprendre »: the key of the gate answered."""
    key = str(w.box.api.flow_run(run_id)["state"]["state_details"]["pause_key"])
    assert w.box.api.resume(run_id, answer)["status"] == "ACCEPT"
    return key


def _check_once(w: World, projet_id: int, key: str) -> None:
    """The decision logged once; every e-mail recorded once, sent, and received once."""
    engine = w.box.engine
    with session_scope(engine) as session:
        rows = session.exec(select(TransitionLog).where(TransitionLog.idempotency_key == key)).all()
        assert [(r.transition, r.accepted) for r in rows] == [(Decision.APPROVE.value, True)]
        reference = session.get(ImplantationProject, projet_id).reference  # type: ignore[union-attr]
        records = session.exec(
            select(NotificationRecord).where(NotificationRecord.project_id == projet_id)
        ).all()
    assert [r.dedup_key for r in records if r.pending] == []
    assert len({r.dedup_key for r in records}) == len(records)
    received = [m for m in w.box.sink.messages if reference in str(m["Subject"])]
    ids = Counter(str(m["Message-ID"]) for m in received)
    assert [i for i, n in ids.items() if n > 1] == []
    assert len(received) == len(records)


def _reached(marker: Path, timeout: float = 180) -> None:
    """The resumed run stands at its fault point (it created the marker and waits there)."""
    deadline = time.monotonic() + timeout
    while not marker.exists():
        assert time.monotonic() < deadline, "le run repris n'a pas atteint la décision"
        time.sleep(0.1)


def _wait_completed(w: World, run_id: str, timeout: float = 180) -> None:
    """Completed, whatever states it goes through meanwhile (Failed, then scheduled again, for instance)."""
    deadline = time.monotonic() + timeout
    seen: list[str] = []
    while (kind := w.box.api.state(run_id)[0]) != "COMPLETED":
        if not seen or seen[-1] != kind:
            seen.append(kind)
        assert time.monotonic() < deadline, f"run {run_id} non terminé après {timeout:.0f} s : {seen}"
        time.sleep(0.3)


def _stage_status(w: World, projet_id: int, etape: int) -> StageStatus:
    with session_scope(w.box.engine) as session:
        record = session.exec(
            select(StageRecord).where(StageRecord.project_id == projet_id, StageRecord.stage == etape)
        ).one()
        return record.status


def _held_after_decide(w: World) -> tuple[int, str, str, Path]:
    """A resumed stage 1 run standing right after ``decide``, until ``<marker>.suite`` exists: the project,
    the run, the gate's key and the marker."""
    projet_id, run_id, answer = _stage1_ready(w)
    marker = w.runner_with_fault("decision", "attendre")
    key = _resume(w, run_id, answer)
    _reached(marker)
    return projet_id, run_id, key, marker


def _stage1_done_once(w: World, projet_id: int, run_id: str, key: str) -> None:
    """The run completed, stage 2 waits at its gate, stage 1 validated, and everything recorded once."""
    _wait_completed(w, run_id)
    w.driver().wait_gate(projet_id, 2, timeout=120)
    assert _stage_status(w, projet_id, 1) == StageStatus.VALIDATED
    _check_once(w, projet_id, key)


@prefect
def test_runner_killed_at_each_moment_of_a_resumed_stage(world: World) -> None:
    """One click on « Reprendre », and the runner killed three times in its wake: while the resumed run
    reads its answer again, right after ``decide`` committed, and once the first e-mail went out. Each
    restart replays the run; the fourth runner finishes it and the next stage opens."""
    w = world
    projet_id, run_id, answer = _stage1_ready(w)
    marker = w.runner_with_fault("reponse")
    key = _resume(w, run_id, answer)
    w.wait_killed(marker)
    assert w.box.api.state(run_id)[0] == "RUNNING"  # what the person would see without recovery
    with session_scope(w.box.engine) as session:
        assert session.exec(select(TransitionLog).where(TransitionLog.idempotency_key == key)).first() is None

    marker = w.runner_with_fault("decision")
    w.wait_killed(marker)
    with session_scope(w.box.engine) as session:
        assert len(session.exec(select(TransitionLog).where(TransitionLog.idempotency_key == key)).all()) == 1

    marker = w.runner_with_fault("courriel")
    w.wait_killed(marker)

    w.runner_with_fault(None)
    assert w.box.api.wait_state(run_id, {"COMPLETED"}, timeout=120) == "COMPLETED"
    w.driver().wait_gate(projet_id, 2, timeout=120)
    assert _stage_status(w, projet_id, 1) == StageStatus.VALIDATED
    assert len([r for r in w.box.api.flow_runs(stage_attempt_key(projet_id, 2, 1))]) == 1
    _check_once(w, projet_id, key)
    messages = w.box.api.get(f"/flow_run_states/?flow_run_id={run_id}")
    assert any("Relancé" in (s.get("message") or "") for s in messages)


def _alive(pid: int) -> bool:
    """Running, not a zombie left for init to reap."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _judged_orphan(w: World, run_id: str) -> bool:
    """The recovery pass's verdict on a Running run, asked once its state is past the grace delay in
    which a starting process is left alone, with the leases of the stack's runners."""
    deployment = UUID(w.box.api.deployment_id("etape/etape"))
    leases = Path(w.stack.env["PREFECT_HOME"]) / LEASES

    async def judge() -> bool:
        async with PrefectClient(api=w.stack.api_url) as client:
            run = await client.read_flow_run(UUID(run_id))
            assert run.state is not None and run.state.is_running() and run.state.timestamp is not None
            while datetime.now(UTC) - run.state.timestamp <= GRACE:
                await asyncio.sleep(0.2)
            found = await orphans(client, [deployment], timedelta(seconds=90), folder=leases)
            return UUID(run_id) in {r.id for r in found}

    return asyncio.run(judge())


@prefect
def test_runner_killed_alone_while_its_run_goes_on(world: World) -> None:
    """Only the runner dies (an OOM kill, a ``kill -9`` of its PID): the resumed run's process lives on
    and holds its lease. The next runner must leave that run alone, neither restarting it nor
    scheduling it twice: the run finishes its stage by itself, once."""
    w = world
    projet_id, run_id, key, marker = _held_after_decide(w)
    runner = w.stack.service("runner")
    survivors = flow_processes(runner.pid)
    assert survivors, "aucun processus de run sous le runner"
    os.kill(runner.pid, signal.SIGKILL)
    try:
        runner.process.wait(timeout=30)
        assert all(_alive(pid) for pid in survivors)

        w.runner_with_fault(None)
        assert not _judged_orphan(w, run_id)  # what the new runner's passes see, once the state is old enough
        Path(f"{marker}.suite").touch()  # the orphaned run goes on, under the new runner's eyes
        _stage1_done_once(w, projet_id, run_id, key)
        assert len([r for r in w.box.api.flow_runs(stage_attempt_key(projet_id, 2, 1))]) == 1
        states = w.box.api.get(f"/flow_run_states/?flow_run_id={run_id}")
        assert not any("Relancé" in (s.get("message") or "") for s in states)
        deadline = time.monotonic() + 60
        while any(_alive(pid) for pid in survivors):  # the run's process exits once its flow returned
            assert time.monotonic() < deadline, "le processus du run orphelin ne s'est pas arrêté"
            time.sleep(0.2)
    finally:  # a failed assertion must not leave the orphaned run waiting at its fault point
        for pid in survivors:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


def _project_at_stage_5(w: World) -> int:
    """Stages 1 to 4 decided through the services (their runs are not the subject here)."""
    ids = w.box.ids
    launch_on = w.driver().launch_date(SCENARIO_TODAY + timedelta(days=60))
    with session_scope(w.box.engine) as session:
        lead = session.get(Person, ids.lead_id)
        assert lead is not None
        project = workflow.create_project(
            session, w.cfg, ids.establishment_id, ids.lead_id, SCENARIO_TODAY, workflow.Actor.of(lead)
        )
        assert project.id is not None
        complete_for_documents(session, w.cfg, project, launch_on, operateurs=1)
        p = ids.person_ids
        requests = [
            DecisionRequest(1, Decision.APPROVE, p["cheffe.projet.disp"]),
            DecisionRequest(
                2,
                Decision.APPROVE,
                p["referent.dreets"],
                candidate_siae_ids=[ids.siae_id, ids.other_siae_id],
                selected_siae_id=ids.siae_id,
                activity="Tri de textiles",
            ),
            DecisionRequest(3, Decision.APPROVE, p["direction.cp-varces"]),
            DecisionRequest(4, Decision.APPROVE, p["spip38"]),
        ]
        for request in requests:
            outcome = decide(session, w.cfg, project.id, request, SCENARIO_TODAY)
            assert outcome.accepted, outcome.problems
        stage_work(session, w.cfg, project.id, 5)
        return project.id


@prefect
def test_runner_killed_while_the_documents_are_generated(world: World) -> None:
    w = world
    projet_id = _project_at_stage_5(w)
    marker = w.runner_with_fault("documents")
    key = stage_attempt_key(projet_id, 5, 1)
    deployment = w.box.api.deployment_id("etape/etape")
    w.box.api.post(
        f"/deployments/{deployment}/create_flow_run",
        {"parameters": {"projet_id": projet_id, "etape": 5}, "name": key, "idempotency_key": key},
    )
    w.wait_killed(marker)
    with session_scope(w.box.engine) as session:
        written = len(
            session.exec(select(DocumentRecord).where(DocumentRecord.project_id == projet_id)).all()
        )
    assert written > 0  # the kill came after the pack was recorded, before the task's result

    w.runner_with_fault(None)
    d = w.driver()
    run_id, _details = d.wait_gate(projet_id, 5, timeout=120)
    d.sign_drafts(projet_id)
    answer = d.answer(projet_id, 5, gate(d.email("referent.dreets")), "la DREETS approuve la convention")
    assert answer.outcome == "enregistré (approuver)"
    assert w.box.api.wait_state(run_id, {"COMPLETED"}, timeout=120) == "COMPLETED"
    assert _stage_status(w, projet_id, 5) == StageStatus.VALIDATED
    with session_scope(w.box.engine) as session:
        documents = session.exec(select(DocumentRecord).where(DocumentRecord.project_id == projet_id)).all()
    assert len(documents) == written
    assert all(doc.version == 1 for doc in documents)
    assert Counter(doc.kind.value for doc in documents) == {
        "dui": 1,
        "convention": 1,
        "contrat_implantation": 1,
        "cep": 1,
        "annexe_cep": 1,
    }
    # Stage 6 opens from the decision: its e-mails go out until its run waits at the gate.
    d.wait_gate(projet_id, 6, timeout=120)
    _check_once(w, projet_id, answer.key)
    with session_scope(w.box.engine) as session:
        reference = session.get(ImplantationProject, projet_id).reference  # type: ignore[union-attr]
    drafts = [m for m in w.box.sink.messages if f"{reference} – Projets de documents" in str(m["Subject"])]
    assert len(drafts) == 1


@prefect
def test_prefect_server_killed_mid_stage_then_restarted(world: World) -> None:
    """The server dies while the resumed run stands right after ``decide``; the run then finds it
    gone, the server comes back, and the stage completes."""
    w = world
    projet_id, run_id, key, marker = _held_after_decide(w)
    server = w.stack.service("serveur-prefect")
    os.killpg(server.pid, signal.SIGKILL)
    server.process.wait(timeout=30)
    Path(f"{marker}.suite").touch()  # the run goes on against a dead server
    w.stack.services.remove(server)
    w.stack.services.insert(0, start_server(w.stack.env, w.stack.log_dir))
    _stage1_done_once(w, projet_id, run_id, key)


@prefect
def test_postgresql_restarted_mid_stage(tmp_path: Path) -> None:
    """Application and Prefect on a PostgreSQL of the test's own, stopped and started again while the
    resumed run stands right after ``decide``."""
    with private_cluster() as cluster:
        cluster.createdb("siae")
        cluster.createdb("prefect")
        for w in _world(tmp_path, cluster.url("siae"), cluster.url("prefect", "postgresql+asyncpg")):
            projet_id, run_id, key, marker = _held_after_decide(w)
            cluster.stop("immediate")
            cluster.start()
            Path(f"{marker}.suite").touch()
            _stage1_done_once(w, projet_id, run_id, key)


@prefect
def test_a_run_of_another_machine_is_orphaned_when_its_heartbeats_stop(world: World) -> None:
    """No lease on this machine: only Prefect's heartbeats tell whether its process lives, judged on the
    server's clock. The beating machine's clock is two hours late: its beat still counts, by the time the
    server received it. The judging clock is moved with ``now`` (server time), not waited for."""
    w = world
    deployment = w.box.api.deployment_id("etape/etape")
    created = w.box.api.post(
        f"/deployments/{deployment}/create_flow_run",
        {
            "parameters": {"projet_id": 999_999, "etape": 1},
            "name": "autre-machine",
            "state": {"type": "RUNNING"},
        },
    )
    run_id = UUID(created["id"])
    stale = timedelta(seconds=30)

    async def orphaned(client: PrefectClient, now: datetime) -> bool:
        found = await orphans(client, [UUID(deployment)], stale, now=now)
        return run_id in {r.id for r in found}

    async def scenario() -> None:
        async with PrefectClient(api=w.stack.api_url) as client:
            run = await client.read_flow_run(run_id)
            assert run.state is not None and run.state.is_running() and run.state.timestamp is not None
            started = run.state.timestamp
            assert await orphaned(client, started + timedelta(seconds=40))  # silent since it started
            deadline = time.monotonic() + 120
            while await server_now(client) < started + timedelta(seconds=12):  # a beat received late enough
                assert time.monotonic() < deadline, "horloge du serveur immobile"
                await asyncio.sleep(0.5)
            beat = {
                "occurred": (started - timedelta(hours=2)).isoformat(),  # that machine's clock is late
                "event": HEARTBEAT,
                "resource": {"prefect.resource.id": f"prefect.flow-run.{run_id}"},
                "id": str(uuid.uuid4()),
            }
            w.box.api.post("/events", [beat])  # type: ignore[arg-type]
            while await orphaned(client, started + timedelta(seconds=40)):  # stored a moment later
                assert time.monotonic() < deadline, "battement de cœur jamais pris en compte"
                await asyncio.sleep(0.5)
            # Silent again for longer than allowed, on the server's clock.
            assert await orphaned(client, await server_now(client) + stale + timedelta(seconds=5))
            await client.set_flow_run_state(run_id, Cancelled(), force=True)  # nothing left to recover

    asyncio.run(scenario())
