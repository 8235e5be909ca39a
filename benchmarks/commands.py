"""What the command-line benchmarks share: ``siae`` timed as a person types it, each command a new process."""

import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

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


def run_argv(argv: list[str], env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(argv, env=dict(env), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"« {' '.join(argv)} » a échoué :\n{done.stderr}")
    return done


def run(args: list[str], env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    return run_argv([str(SIAE), *args], env)


def time_argv(argv: list[str], env: Mapping[str, str], repetitions: int) -> Timing:
    """Wall time, and the CPU time of the process and its children."""
    wall, cpu = [], []
    for _ in range(repetitions):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        run_argv(argv, env)
        wall.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return Timing(wall, cpu)


def time_command(args: list[str], env: Mapping[str, str], repetitions: int) -> Timing:
    return time_argv([str(SIAE), *args], env, repetitions)
