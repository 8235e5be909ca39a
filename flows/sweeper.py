"""Daily deadline sweep (deployment ``echeances``): reminders before due dates, weekly escalations after,
the journal checked, and every recorded signature verified again: a broken chain, or a signature that no
longer verifies, fails the run and alerts ATIGIP and the project's DISP.

``aujourdhui`` is a parameter so that a test, or an operator catching up after an outage, can sweep as of
any date; the records of what was sent make a replayed day send nothing twice.
"""

from datetime import date
from typing import Annotated

from prefect import flow, get_run_logger

from flows.parameters import titled
from implantation import dates
from tasks.sweep import (
    SweepResult,
    alert_journal_altered,
    publish_journal_head,
    sweep_deadlines_task,
    verify_signatures_task,
)


class DeadlineSweepFailed(RuntimeError):
    """Some e-mails could not be sent; they will be retried by the next sweep."""


class JournalAltered(RuntimeError):
    """The journal's chain is broken: the run fails every day until someone looks into it."""


class SignaturesInvalid(RuntimeError):
    """A recorded signature no longer verifies: the run fails every day until someone looks into it."""


@flow(name="echeances", persist_result=True, description="Rappels et relances des échéances des étapes.")
def echeances(
    aujourdhui: Annotated[date | None, titled("Date du balayage")] = None,
) -> SweepResult:
    """Envoyer les rappels et relances dus à la date indiquée.

    Args:
        aujourdhui: Date du balayage ; aujourd'hui si vide (une date passée rattrape un jour manqué).
    """
    day = aujourdhui or dates.today()
    result = sweep_deadlines_task(day)
    journal = publish_journal_head(day)
    logger = get_run_logger()
    logger.info("%d courriel(s) d'échéance envoyé(s).", len(result.notification_ids))
    signatures = verify_signatures_task(day)
    logger.info("%d signature(s) vérifiée(s) de nouveau.", signatures.checked)
    if not journal.ok:
        told = alert_journal_altered(day)
        logger.error("Journal altéré : %s ; %d personne(s) prévenue(s).", journal.problem, told)
        also = f" Échéances : {result.failures}" if result.failures else ""
        raise JournalAltered(f"journal des décisions altéré : {journal.problem}.{also}")
    if not signatures.ok:
        where = ", ".join(f"{reference} ({count})" for reference, count in signatures.failing.items())
        logger.error(
            "Signatures qui ne se vérifient plus : %s ; %d personne(s) prévenue(s).", where, signatures.told
        )
        raise SignaturesInvalid(
            f"signature(s) qui ne se vérifient plus dans : {where} (« siae documents verifier PROJET »)."
        )
    if result.failures:
        raise DeadlineSweepFailed(result.failures)
    return result
