"""Fault points: where the recovery tests break things, deterministically, instead of after a sleep.

``SIAE_TEST_FAULT=<point>:<marker file>`` makes the process reaching ``point(<point>)`` kill its whole process
group with SIGKILL (the runner, its forkserver and every run it executes, as a dead machine or a
``kill -9`` of the service would), the first time only: the marker file is created first, so the
replay after the restart goes through. With ``:attendre`` after the marker, the process waits there
instead until ``<marker file>.suite`` exists: the test kills or restarts a server meanwhile. A test that
fails before releasing it does not leave the process behind for good: past :data:`WAIT_LIMIT` it kills itself.
The points themselves are :func:`implantation.fault_points.point`, which calls this module only when the
variable is set (this module is test code, not shipped); set in production (``SIAE_MODE``), the variable
is refused when the settings are read, before any point is reached.
"""

import os
import signal
import time
from pathlib import Path

from implantation.settings import TEST_HOOKS

VARIABLE = TEST_HOOKS["test_fault"]

POINTS = ("reponse", "decision", "documents", "courriel")
WAIT_LIMIT = 600.0  # seconds; far beyond any test's own timeouts


def point(name: str) -> None:
    spec = os.environ.get(VARIABLE)
    if not spec:
        return
    wanted, _, rest = spec.partition(":")
    marker, _, action = rest.partition(":")
    if wanted != name or not marker:
        return
    try:
        os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        return
    if action == "attendre":
        go_on = Path(f"{marker}.suite")
        deadline = time.monotonic() + WAIT_LIMIT
        while not go_on.exists():
            if time.monotonic() > deadline:
                os.kill(os.getpid(), signal.SIGKILL)
            time.sleep(0.05)
        return
    os.killpg(os.getpgrp(), signal.SIGKILL)
