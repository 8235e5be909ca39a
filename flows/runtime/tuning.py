"""Which of the runtime's patches of Prefect internals are on: all by default, none with
``SIAE_PREFECT_TUNING=0`` (stock Prefect), or all but those named in ``SIAE_PREFECT_TUNING_OFF``.

Why a switch: when a run misbehaves, an operator or a maintainer must be able to tell a Prefect bug from
one of ours by running stock Prefect on the same data, and each patch must show, measured, what it saves
(``benchmarks/approval_latency.py --comparer`` turns them off one at a time). Only the patches are
switched: the documented Prefect settings (:mod:`flows.runtime.prefect_defaults`) and the product's own
use of Prefect's public API stay. One switch is not a patch of Prefect: ``gc_heap``, the garbage
collector's settings of the server and the forkserver (:mod:`flows.runtime.heap`); it goes with the
others so that stock Prefect runs as released, in an interpreter as released.

The names, and what each patch does, are listed in ``flows/runtime/README.md``.
"""

from collections.abc import Iterable

from implantation.settings import Settings

# In the order of a run's journey: how the runner starts it, what the run does at its start, then the
# runner's and the server's side.
FORKSERVER = "forkserver"
SETTINGS_REUSE = "settings_reuse"
SHARED_TLS = "shared_tls"
NO_OBSERVER = "no_observer"
WAKEUP = "wakeup"
PG_DATES = "pg_dates"
SQLITE_LOCK_WAIT = "sqlite_lock_wait"
SQLITE_IMMEDIATE = "sqlite_immediate"
GC_HEAP = "gc_heap"

PATCHES = (
    FORKSERVER,
    SETTINGS_REUSE,
    SHARED_TLS,
    NO_OBSERVER,
    WAKEUP,
    PG_DATES,
    SQLITE_LOCK_WAIT,
    SQLITE_IMMEDIATE,
    GC_HEAP,
)
# Applied inside each run's process, so only when the runner starts runs with the project's starter
# (:mod:`flows.runtime.warm_start`): with all of them and the forkserver off, Prefect's own starter runs.
RUN_PATCHES = frozenset({SETTINGS_REUSE, SHARED_TLS, NO_OBSERVER})


class TuningError(ValueError):
    """A switch names no known patch; the message is French."""


def parse_off(value: str) -> frozenset[str]:
    names = frozenset(name.strip() for name in value.split(",") if name.strip())
    unknown = sorted(names - set(PATCHES))
    if unknown:
        raise TuningError(
            f"SIAE_PREFECT_TUNING_OFF : correction inconnue {', '.join(unknown)} ; "
            f"les corrections sont : {', '.join(PATCHES)}."
        )
    return names


def active(settings: Settings | None = None) -> frozenset[str]:
    """The patches to apply, from the settings (the environment and ``.env`` when none are given)."""
    settings = settings or Settings()
    off = parse_off(settings.prefect_tuning_off)
    if not settings.prefect_tuning:
        return frozenset()
    return frozenset(PATCHES) - off


def environment(on: Iterable[str]) -> dict[str, str]:
    """The variables that turn on exactly ``on`` (for the benchmark and the tests that start processes)."""
    on = frozenset(on)
    parse_off(",".join(on))
    if not on:
        return {"SIAE_PREFECT_TUNING": "0", "SIAE_PREFECT_TUNING_OFF": ""}
    return {
        "SIAE_PREFECT_TUNING": "1",
        "SIAE_PREFECT_TUNING_OFF": ",".join(p for p in PATCHES if p not in on),
    }
