"""Daily deadline sweep (deployment ``echeances``): reminders before due dates, weekly escalations after.

``aujourdhui`` is a parameter so that a test, or an operator catching up after an outage, can sweep as of
any date; the records of what was sent make a replayed day send nothing twice.
"""

from datetime import date
from typing import Annotated

from prefect import flow, get_run_logger

from flows.parameters import titled
from implantation import dates
from tasks.sweep import SweepResult, sweep_deadlines_task


class DeadlineSweepFailed(RuntimeError):
    """Some e-mails could not be sent; they will be retried by the next sweep."""


@flow(name="echeances", persist_result=True, description="Rappels et relances des échéances des étapes.")
def echeances(
    aujourdhui: Annotated[date | None, titled("Date du balayage")] = None,
) -> SweepResult:
    """Envoyer les rappels et relances dus à la date indiquée.

    Args:
        aujourdhui: Date du balayage ; aujourd'hui si vide (une date passée rattrape un jour manqué).
    """
    result = sweep_deadlines_task(aujourdhui or dates.today())
    get_run_logger().info("%d courriel(s) d'échéance envoyé(s).", len(result.notification_ids))
    if result.failures:
        raise DeadlineSweepFailed(result.failures)
    return result
