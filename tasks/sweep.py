"""The daily deadline sweep: reminders before due dates and weekly escalations after them."""

from datetime import date

from prefect import task
from prefect.artifacts import create_markdown_artifact
from pydantic import BaseModel
from sqlmodel import col, select

from implantation.db.journal import verify
from implantation.db.models import ImplantationProject
from implantation.db.session import session_scope
from implantation.deadlines import DeadlineSweepError, run_deadline_sweep
from implantation.notifications.journal_mail import send_journal_alert
from implantation.notifications.signature_mail import send_signature_alert
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


JOURNAL_ARTIFACT = "empreinte-journal"


class JournalCheck(BaseModel):
    """The verified head digest, and the French problem when the chain is broken (table, row, rank only)."""

    digest: str
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


@task(name="publier-empreinte-journal", **TASK_OPTIONS)
def publish_journal_head(today: date) -> JournalCheck:
    """Verify the journal and publish its head digest: a copy kept outside the database dates the past.

    The artifact holds the digest, its rank, its date and at most the ids of a broken link: no name.
    """
    _settings, _cfg, engine = runtime()
    with engine.connect() as conn:
        result = verify(conn)
    when = f"{result.head_at:%d/%m/%Y %H:%M:%S} UTC" if result.head_at else "journal vide"
    state = "intègre" if result.ok else f"**altéré** : {result.problem}"
    markdown = "\n".join(
        [
            f"# Empreinte du journal au {today:%d/%m/%Y}",
            "",
            f"- Empreinte de tête (SHA-256) : `{result.head_digest}`",
            f"- Maillons : {result.links} ; dernier ajout : {when}",
            f"- Vérification : {state}",
            "",
            "Conserver cette empreinte hors de la base ; `siae journal verifier --empreinte EMPREINTE` "
            "prouve ensuite que le passé n'a pas été réécrit.",
        ]
    )
    create_markdown_artifact(markdown, key=JOURNAL_ARTIFACT, description="Empreinte de tête du journal")
    return JournalCheck(digest=result.head_digest, problem=result.problem)


@task(name="alerter-journal-altere", **TASK_OPTIONS)
def alert_journal_altered(today: date) -> int:
    """Tell ATIGIP and the project's DISP that the chain is broken; how many people were told."""
    settings, cfg, engine = runtime()
    with session_scope(engine) as session:
        result = verify(session.connection())
        if result.ok:
            return 0
        return send_journal_alert(session, cfg, settings, result, today)


class SignatureSweep(BaseModel):
    """How many signatures were checked, and how many no longer verify per project reference: counts only,
    the problems (documents, parties) go by e-mail from the database, never into Prefect."""

    checked: int = 0
    failing: dict[str, int] = {}
    told: int = 0

    @property
    def ok(self) -> bool:
        return not self.failing


@task(name="verifier-signatures", **TASK_OPTIONS)
def verify_signatures_task(today: date) -> SignatureSweep:
    """Check again every recorded signature against the stored bytes (``siae documents verifier``), and
    alert ATIGIP and the project's DISP about those that no longer verify, as for a broken journal."""
    from implantation.signatures.register import verify_project

    settings, cfg, engine = runtime()
    result = SignatureSweep()
    with session_scope(engine) as session:
        projects = list(session.exec(select(ImplantationProject).order_by(col(ImplantationProject.id))))
        for project in projects:
            assert project.id is not None
            checks = verify_project(session, settings, project.id)
            result.checked += len(checks)
            bad = [c for c in checks if c.problem]
            if not bad:
                continue
            result.failing[project.reference] = len(bad)
            problems = [
                f"{c.record.pdf_filename or c.record.filename} (version {c.record.version}, "
                f"{c.signature.party_role.label}) : {c.problem}"
                for c in bad
            ]
            result.told += send_signature_alert(session, cfg, settings, project, problems, today)
    return result
