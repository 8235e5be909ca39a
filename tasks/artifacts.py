"""Per-implantation artifacts in Prefect: a progress bar and a markdown summary (stages, due dates, decisions).

Both carry the same key for a project, so the UI shows the latest version and keeps the history. They
name professionals who decided (their role is public), never a person detained.
"""

from prefect import task
from prefect.artifacts import create_markdown_artifact, create_progress_artifact
from sqlmodel import Session, col, select

from implantation.config.schema import ProcessConfig
from implantation.dates import fr_date, fr_datetime
from implantation.db.models import Establishment, ImplantationProject, StageRecord, TransitionLog
from implantation.db.session import session_scope
from implantation.enums import StageStatus
from implantation.services.workflow import get_project
from tasks.common import TASK_OPTIONS, runtime

DECISIONS = {"approuver": "Approbation", "rejeter": "Rejet", "renvoyer": "Renvoi", "lancer": "Lancement"}


def artifact_key(reference: str) -> str:
    return "implantation-" + "".join(c if c.isalnum() else "-" for c in reference.lower())


def _stages(session: Session, project_id: int) -> list[StageRecord]:
    return list(
        session.exec(
            select(StageRecord).where(StageRecord.project_id == project_id).order_by(col(StageRecord.stage))
        )
    )


def summary_markdown(session: Session, cfg: ProcessConfig, project: ImplantationProject) -> str:
    establishment = session.get(Establishment, project.establishment_id)
    lines = [
        f"# Implantation {project.reference}",
        "",
        f"**Établissement** : {establishment.name if establishment else '?'} — "
        f"**statut** : {project.status.label} — **étape en cours** : {project.current_stage}",
    ]
    if project.launch_date:
        lines.append(f"**Démarrage de l'activité** : {fr_date(project.launch_date)}")
    lines += ["", "| Étape | Statut | Ouverte le | Échéance | Close le |", "|---|---|---|---|---|"]
    for record in _stages(session, project.id):  # type: ignore[arg-type]
        lines.append(
            f"| {record.stage}. {cfg.stage(record.stage).titre} | {record.status.label} | "
            f"{fr_date(record.opened_on) if record.opened_on else '–'} | "
            f"{fr_date(record.due_on) if record.due_on else '–'} | "
            f"{fr_date(record.closed_on) if record.closed_on else '–'} |"
        )
    rows = session.exec(
        select(TransitionLog).where(TransitionLog.project_id == project.id).order_by(col(TransitionLog.id))
    )
    decisions = [r for r in rows if r.transition in DECISIONS or not r.accepted]
    lines += ["", "## Décisions", "", "| Date | Étape | Décision | Par | Motif |", "|---|---|---|---|---|"]
    for row in decisions:
        label = DECISIONS.get(row.transition, "Décision refusée") if row.accepted else "Décision refusée"
        reason = (row.reason or "").replace("|", "/").replace("\n", " ")
        lines.append(
            f"| {fr_datetime(row.at)} | {row.stage or '–'} | {label} | {row.actor_label} | {reason} |"
        )
    if not decisions:
        lines.append("| – | – | aucune décision | – | – |")
    return "\n".join(lines) + "\n"


@task(name="publier-avancement", **TASK_OPTIONS)
def publish_progress(projet_id: int, marker: str) -> str:
    """``marker`` names the moment (e.g. the gate key), so each moment publishes once per flow run."""
    _settings, cfg, engine = runtime()
    with session_scope(engine) as session:
        project = get_project(session, projet_id)
        validated = sum(1 for r in _stages(session, projet_id) if r.status == StageStatus.VALIDATED)
        key = artifact_key(project.reference)
        create_progress_artifact(
            progress=100.0 * validated / cfg.last_stage,
            key=f"{key}-avancement",
            description=f"{project.reference} : {validated} étape(s) validée(s) sur {cfg.last_stage}",
        )
        create_markdown_artifact(
            markdown=summary_markdown(session, cfg, project),
            key=key,
            description=f"Suivi de l'implantation {project.reference}",
        )
        return key
