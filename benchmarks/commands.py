"""What the command-line benchmarks share: ``siae`` timed as a person types it, cold and warm.

Cold: ``SIAE_CLI_WARM=0``, every command imports everything (the first command of the day, or the warm
process turned off). Warm: the commands after the first, answered by the process that the first one
started (see :mod:`flows.runtime.warm_cli`); it runs in a private directory and is stopped afterwards.
"""

import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from flows.runtime.warm_cli import stop_servers

SIAE = Path(sys.executable).with_name("siae")


@dataclass(frozen=True)
class Timing:
    wall: list[float]
    cpu: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.wall)

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.cpu)


def run(args: list[str], env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([str(SIAE), *args], env=dict(env), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"« siae {' '.join(args)} » a échoué :\n{done.stderr}")
    return done


def time_command(args: list[str], env: Mapping[str, str], repetitions: int) -> Timing:
    """Wall time, and the CPU of the command's own process (the client's, when warm)."""
    wall, cpu = [], []
    for _ in range(repetitions):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        run(args, env)
        wall.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return Timing(wall, cpu)


def cold(env: Mapping[str, str]) -> dict[str, str]:
    return {**env, "SIAE_CLI_WARM": "0"}


@contextmanager
def warm(env: Mapping[str, str], directory: Path, prime: list[str]) -> Iterator[dict[str, str]]:
    """An environment whose commands are served warm: ``prime`` starts the server, which is up on exit."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    warm_env = {**env, "SIAE_CLI_WARM": "1", "SIAE_CLI_WARM_DIR": str(directory)}
    run(prime, warm_env)
    deadline = time.monotonic() + 120
    while not any(name.endswith(".sock") for name in os.listdir(directory)):
        if time.monotonic() > deadline:
            raise SystemExit("Le processus chaud de siae n'a pas démarré en 2 minutes.")
        time.sleep(0.1)
    try:
        yield warm_env
    finally:
        stop_servers(str(directory))
