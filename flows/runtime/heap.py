"""The garbage collector of the two long-lived processes that import all of Prefect: the server, and the
runner's forkserver whose heap every run inherits (patch ``gc_heap`` of :mod:`flows.runtime.tuning`).

Python's collector goes through the whole heap at each full collection; after start-up most of that
heap is code, classes and schemas that will never be garbage. Measured with ``gc.callbacks`` during
``benchmarks/national.py`` on PostgreSQL: the server spent 7.1 s of its 45 s of CPU collecting (20
projects), and 64 s over 190 projects (preparation included; 422 s of CPU in the measured part); in the
forked runs, the collector's passes over the inherited heap showed inside their first queries (py-spy),
and touching those objects made the kernel copy their pages for each run.

Two standard-library settings answer it, both taken once, when start-up is done:

- ``gc.freeze()``, documented for a process that forks without exec: what is loaded so far is left out
  of every later collection, in the process and in its children;
- a first-generation threshold of :data:`FIRST_GENERATION` allocations instead of 700, in the server
  only: its requests allocate many short-lived objects, and each full collection is paid for by fewer
  requests' worth of young ones otherwise.

Measured on the national benchmark (PostgreSQL, 20 projects): the server collected for 7.1 s, 4.6 s
once frozen, 1.6 s with the threshold too (CPU 45 s → 41 s, RSS 216 → 227 MB); the runner and its runs
went from 93-101 s of CPU to 68 s with the forkserver's heap frozen.
"""

import gc

FIRST_GENERATION = 7000


def freeze_forkserver() -> None:
    """Once the forkserver has preloaded everything: the runs it forks inherit a frozen heap."""
    gc.freeze()


def settle_server() -> None:
    """Once the server's modules are loaded, before it serves."""
    gc.freeze()
    _, second, third = gc.get_threshold()
    gc.set_threshold(FIRST_GENERATION, second, third)
