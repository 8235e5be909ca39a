"""The national overview in Prefect: a table artifact under a stable key, and the e-mail to ATIGIP.

The artifact keeps one version per run under ``tableau-national``, so the UI shows today's table
and its history. It holds what the CLI shows: establishments, SIAE, stages, decisions by
professionals, and counts of opérateurs, never a person detained.
"""

from datetime import date

from prefect import task
from prefect.artifacts import create_table_artifact
from pydantic import BaseModel

from implantation.db.session import session_scope
from implantation.notifications.overview_mail import send_overview
from implantation.services.overview import overview
from implantation.services.overview_chart import chart_png
from implantation.services.overview_export import COLUMNS, text_values, write_xlsx
from tasks.common import TASK_OPTIONS, runtime

ARTIFACT_KEY = "tableau-national"


class OverviewSummary(BaseModel):
    projets: int
    en_retard: int
    artefact: str
    classeur: str | None = None
    destinataires: list[str] = []


@task(name="publier-tableau", **TASK_OPTIONS)
def publish_overview(today: date) -> OverviewSummary:
    _settings, cfg, engine = runtime()
    with session_scope(engine) as session:
        rows = overview(session, cfg, today)
    create_table_artifact(
        key=ARTIFACT_KEY,
        table=[dict(zip(COLUMNS, text_values(row), strict=True)) for row in rows],
        description=f"Tableau national des implantations au {today:%d/%m/%Y} : {len(rows)} projet(s), "
        f"dont {sum(1 for r in rows if r.late)} en retard.",
    )
    return OverviewSummary(projets=len(rows), en_retard=sum(1 for r in rows if r.late), artefact=ARTIFACT_KEY)


@task(name="envoyer-tableau", **TASK_OPTIONS)
def mail_overview(today: date) -> OverviewSummary:
    """Writes the workbook under ``data/tableau-national/`` and mails it, with the chart, to ATIGIP."""
    settings, cfg, engine = runtime()
    with session_scope(engine) as session:
        rows = overview(session, cfg, today)
        png = chart_png(rows, today, cfg.stage_numbers)
        path = settings.data_dir / "tableau-national" / f"tableau-national_{today.isoformat()}.xlsx"
        write_xlsx(rows, cfg, path, today, png)
        sent = send_overview(session, cfg, settings, rows, today, path.read_bytes(), png)
    return OverviewSummary(
        projets=len(rows),
        en_retard=sum(1 for r in rows if r.late),
        artefact=ARTIFACT_KEY,
        classeur=str(path),
        destinataires=sent,
    )
