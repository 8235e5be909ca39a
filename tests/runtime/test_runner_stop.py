"""The runner stops within 10 s of SIGTERM, even when its Prefect server is gone."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from flows.harness.sandbox import sandbox
from implantation.settings import PROJECT_ROOT

STOP_BOUND_SECONDS = 10


def test_the_shutdown_deadline_ends_a_process_stuck_in_its_shutdown() -> None:
    stuck = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import threading; from flows.runtime.runner import arm_shutdown_deadline; "
            "arm_shutdown_deadline(0.2); threading.Event().wait()",
        ]
    )
    try:
        assert stuck.wait(timeout=60) == 0
    finally:
        stuck.kill()


@pytest.mark.prefect
def test_sigterm_stops_the_runner_within_10_s_after_the_server_was_killed(tmp_path: Path) -> None:
    with sandbox(
        tmp_path,
        f"sqlite:///{tmp_path / 'siae.db'}",
        tmp_path / "data",
        extra={"SIAE_CONFIG_DIR": str(PROJECT_ROOT / "config")},
    ) as box:
        box.stack.start(schedules=False)
        server, runner = box.stack.service("serveur-prefect"), box.stack.service("runner")
        os.killpg(server.pid, signal.SIGKILL)
        server.process.wait(timeout=30)
        os.kill(runner.pid, signal.SIGTERM)  # the runner alone, as a deployment or systemd stops it
        try:
            runner.process.wait(timeout=STOP_BOUND_SECONDS)
        except subprocess.TimeoutExpired:
            pytest.fail(f"le runner tourne encore {STOP_BOUND_SECONDS} s après SIGTERM (serveur arrêté)")
