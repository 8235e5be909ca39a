"""Where the recovery tests break a process on purpose (``SIAE_TEST_FAULT``), at no cost otherwise.

A point is one environment lookup. What a point does when the variable names it (kill the process group,
or wait for the test) is test code, in ``flows/harness/faults.py``, which the product does not ship: the
variable is refused outside the demonstration and test modes before that code is looked for, and an
installed product without the harness says so.
"""

import os

from implantation.settings import TEST_HOOKS

VARIABLE = TEST_HOOKS["test_fault"]


def point(name: str) -> None:
    if not os.environ.get(VARIABLE):
        return
    from implantation.settings import get_settings

    get_settings()  # refuses the variable outside the demonstration and test modes
    try:
        from flows.harness import faults
    except ImportError as exc:  # an installed product: the test harness is not shipped
        raise RuntimeError(
            f"{VARIABLE} ne sert qu'aux tests de reprise, depuis le dépôt source : retirer la variable."
        ) from exc
    faults.point(name)
