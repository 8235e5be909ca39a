"""A project abandoned while one of its stage runs is running (not waiting at its gate): no fresh codes are
mailed for it, and the run does not wait for ever.

The resumed stage 1 run is held while it reads its answer (fault point ``reponse``), the project is
abandoned meanwhile, then the run is let go: it is cancelled by ``siae projet abandonner`` (« Cancelling »,
which its runner acts on), or, when only the database knows of the abandonment, its decision is refused and
the re-ask that would follow reads the project afresh and asks nothing.
"""

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from flows.harness.faults import VARIABLE
from flows.harness.local import flow_processes
from flows.harness.sandbox import Sandbox, sandbox
from flows.harness.scenario import SCENARIO_TODAY, Driver, gate
from implantation.config.loader import demo_config, load_process_config
from implantation.config.schema import ProcessConfig
from implantation.db.models import ImplantationProject, TransitionLog
from implantation.db.session import session_scope
from implantation.services import workflow

pytestmark = pytest.mark.prefect

SIAE = Path(sys.executable).with_name("siae")
APPROVAL_REQUEST = "Décision attendue – étape 1,"


@pytest.fixture(scope="module")
def box(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Sandbox, ProcessConfig, Path]]:
    base = tmp_path_factory.mktemp("abandon")
    config_dir = demo_config(base / "config")
    with sandbox(
        base,
        f"sqlite:///{base / 'siae.db'}",
        base / "data",
        extra={"SIAE_CONFIG_DIR": str(config_dir)},
        today=SCENARIO_TODAY,
    ) as opened:
        opened.stack.start(schedules=False)
        yield opened, load_process_config(config_dir), base


def _held_while_reading_its_answer(box: Sandbox, cfg: ProcessConfig, folder: Path) -> tuple[int, str, Path]:
    """A project whose resumed stage 1 run stands at its fault point; the project, the run, the marker."""
    driver = Driver(box.api, box.engine, cfg, box.ids, sink=box.sink)
    projet_id = driver.start()
    driver.stage_work(projet_id, 1)
    driver.enter_facts(projet_id, 1, driver.launch_date(driver.today + timedelta(days=60)))
    run_id, _details = driver.wait_gate(projet_id, 1)
    marker = folder / f"faute-reponse-{time.monotonic_ns()}"
    runner = box.stack.service("runner")
    while flow_processes(runner.pid):  # the run that suspended may still be exiting
        time.sleep(0.1)
    box.stack.env[VARIABLE] = f"reponse:{marker}:attendre"
    box.stack.restart_runner(schedules=False)
    email = driver.email("cheffe.projet.disp")
    answer = gate(email, code=driver.received_code(projet_id, 1, email))
    assert box.api.resume(run_id, answer)["status"] == "ACCEPT"
    deadline = time.monotonic() + 180
    while not marker.exists():
        assert time.monotonic() < deadline, "le run repris n'a pas atteint sa réponse"
        time.sleep(0.1)
    assert box.api.state(run_id)[0] == "RUNNING"
    box.stack.env.pop(VARIABLE, None)
    return projet_id, run_id, marker


def _approval_requests(box: Sandbox, projet_id: int) -> int:
    with session_scope(box.engine) as session:
        reference = session.get(ImplantationProject, projet_id).reference  # type: ignore[union-attr]
    return sum(
        1
        for m in box.sink.messages
        if f"{reference} – " in str(m["Subject"]) and APPROVAL_REQUEST in str(m["Subject"])
    )


def _final(box: Sandbox, run_id: str, timeout: float = 180) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        state = box.api.flow_run(run_id)["state"]
        if state["type"] in ("COMPLETED", "CANCELLED", "FAILED", "CRASHED"):
            return dict(state)
        assert time.monotonic() < deadline, f"run {run_id} toujours « {state['name']} »"
        time.sleep(0.3)


def test_the_running_stage_run_is_cancelled_by_the_abandonment(
    box: tuple[Sandbox, ProcessConfig, Path],
) -> None:
    sandboxed, cfg, folder = box
    projet_id, run_id, marker = _held_while_reading_its_answer(sandboxed, cfg, folder)
    asked = _approval_requests(sandboxed, projet_id)
    env = {
        **os.environ,
        **{k: v for k, v in sandboxed.stack.env.items() if k.startswith(("PREFECT_", "SIAE_"))},
    }
    done = subprocess.run(
        [str(SIAE), "projet", "abandonner", str(projet_id), "--motif", "Locaux retirés"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "annulée dans Prefect" in done.stdout
    try:
        state = _final(sandboxed, run_id)
    finally:
        Path(f"{marker}.suite").touch()
    assert state["type"] == "CANCELLED", state
    assert _approval_requests(sandboxed, projet_id) == asked
    with session_scope(sandboxed.engine) as session:
        logged = session.exec(
            select(TransitionLog.transition).where(TransitionLog.project_id == projet_id)
        ).all()
    assert "annuler_execution" in logged and "approuver" not in logged


def test_a_run_the_abandonment_could_not_stop_asks_nothing_more(
    box: tuple[Sandbox, ProcessConfig, Path],
) -> None:
    """Only the database knows (the server was unreachable for the command): the run reads it afresh."""
    sandboxed, cfg, folder = box
    projet_id, run_id, marker = _held_while_reading_its_answer(sandboxed, cfg, folder)
    asked = _approval_requests(sandboxed, projet_id)
    with session_scope(sandboxed.engine) as session:
        project = session.get(ImplantationProject, projet_id)
        assert project is not None
        workflow.abandon(session, project, "Locaux retirés", workflow.SYSTEM)
    Path(f"{marker}.suite").touch()
    state = _final(sandboxed, run_id)
    assert state["type"] == "COMPLETED", state
    assert _approval_requests(sandboxed, projet_id) == asked  # no fresh codes for an abandoned project
    with session_scope(sandboxed.engine) as session:
        refused = session.exec(
            select(TransitionLog).where(
                TransitionLog.project_id == projet_id, TransitionLog.transition == "refus_approuver"
            )
        ).one()
    assert "le projet est « " in (refused.reason or "")
