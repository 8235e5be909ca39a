"""The daily deadline sweep: reminders before due dates and weekly escalations after them."""

from datetime import date

from prefect import task
from pydantic import BaseModel

from implantation.db.session import session_scope
from implantation.deadlines import DeadlineSweepError, run_deadline_sweep
from tasks.common import TASK_OPTIONS, runtime


class SweepResult(BaseModel):
    """Ids and counts only; failures are French messages naming projects and stages."""

    notification_ids: list[int] = []
    failures: str | None = None


@task(name="balayer-echeances", **TASK_OPTIONS)
def sweep_deadlines_task(today: date) -> SweepResult:
    settings, cfg, engine = runtime()
    failures = None
    with session_scope(engine) as session:
        try:
            sent = run_deadline_sweep(session, cfg, settings, today)
        except DeadlineSweepError as exc:
            # The mails in exc.sent went out: commit them, so the next sweep does not send them again.
            sent, failures = exc.sent, str(exc)
        session.flush()
        return SweepResult(notification_ids=[r.id for r in sent if r.id is not None], failures=failures)
