"""No process outlives a ``siae`` command: nothing is left running once the command has returned.

The command runs under a small Python parent that makes itself the *subreaper* of its descendants
(``prctl(PR_SET_CHILD_SUBREAPER)``): a process the command leaves behind is re-parented to it even when it
detached itself into a session of its own (as a background server does), and is found among its children.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

SIAE = Path(sys.executable).with_name("siae")

# Runs argv as a child, then lists (and kills) what is still alive among its own children: the survivors.
REAPER = r"""
import ctypes, json, os, signal, subprocess, sys, tempfile
PR_SET_CHILD_SUBREAPER = 36
if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
    raise SystemExit("prctl(PR_SET_CHILD_SUBREAPER) refusé")
# Files, not pipes: a survivor holding the command's output open must not keep this parent waiting.
with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
    code = subprocess.run(sys.argv[1:], stdout=out, stderr=err, timeout=300).returncode
    out.seek(0), err.seek(0)
    stdout, stderr = out.read(), err.read()
me, survivors = os.getpid(), []
for entry in os.listdir("/proc"):
    if not entry.isdigit():
        continue
    try:
        with open(f"/proc/{entry}/stat") as stat:
            text = stat.read()
        with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
            command = cmdline.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        continue
    state, parent = text[text.rindex(")") + 2 :].split()[:2]
    if int(parent) == me and state != "Z":
        survivors.append(f"{entry} {command}")
        os.kill(int(entry), signal.SIGKILL)
print(json.dumps({"code": code, "stdout": stdout, "stderr": stderr, "survivors": survivors}))
"""


def run_reaped(argv: list[str], env: dict[str, str]) -> dict[str, object]:
    """``argv``'s exit code and output, and the processes it left alive (killed after being listed)."""
    done = subprocess.run(
        [sys.executable, "-c", REAPER, *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=330,
        check=True,
    )
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def test_the_check_sees_a_detached_survivor() -> None:
    """A command that leaves a detached process behind (new session, as a daemon would) is caught."""
    detaching = "import subprocess; subprocess.Popen(['sleep', '60'], start_new_session=True)"
    result = run_reaped([sys.executable, "-c", detaching], dict(os.environ))
    assert result["code"] == 0
    assert [line.split(" ", 1)[1] for line in result["survivors"]] == ["sleep 60"]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["projet", "lister"],
        ["tableau"],
        ["projet", "chronologie", "1"],
        ["projet", "abandonner", "1", "--motif", "Locaux retirés"],
    ],
)
def test_no_process_outlives_a_command(args: list[str], seeded: Engine) -> None:
    # The abandonment looks for the Prefect server: a closed port, answered at once.
    env = {**os.environ, "PREFECT_API_URL": "http://127.0.0.1:9/api"}
    result = run_reaped([str(SIAE), *args], env)
    assert result["code"] == 0, result["stderr"]
    assert result["survivors"] == []
