"""E-mails of the stage flows through ``send_once``: the dedup key names the event, so a replay sends nothing.

Each task commits right after sending (see ``implantation.notifications.mailer``) and returns how many
e-mails went out, never the addresses.
"""

from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID

from prefect import task
from sqlmodel import Session, select

from implantation import dates
from implantation.config.schema import DecisionKind
from implantation.db.models import DocumentRecord, TransitionLog
from implantation.db.session import session_scope
from implantation.documents import storage
from implantation.notifications.codes import send_approval_requests
from implantation.notifications.context import (
    drafts_context,
    flow_run_url,
    launch_context,
    logged_decision_context,
    stage_opened_context,
)
from implantation.notifications.mailer import Attachment, MailKind, send_once
from implantation.notifications.recipients import (
    addresses,
    pilot_persons,
    siae_addresses,
    stage_recipients,
)
from implantation.services.ics import stage_attachment
from implantation.services.workflow import get_project, last_reopen_reason
from implantation.settings import Settings
from tasks.common import TASK_OPTIONS, runtime


def _send(
    session: Session,
    settings: Settings,
    *,
    projet_id: int,
    etape: int,
    kind: MailKind,
    dedup_key: str,
    recipients: Sequence[str],
    context: Mapping[str, Any],
    attachments: Sequence[Attachment] = (),
) -> int:
    """How many e-mails went out (0 or 1): nobody to tell is not an error that should fail the run."""
    if not recipients:
        return 0
    session.commit()  # what the context wrote (calendar sequences): the e-mail's claim has its own session
    sent = send_once(
        session,
        settings,
        project_id=projet_id,
        stage=etape,
        kind=kind,
        dedup_key=dedup_key,
        recipients=recipients,
        context=context,
        attachments=attachments,
    )
    return int(sent is not None)


@task(name="notifier-ouverture", **TASK_OPTIONS)
def notify_stage_opened(projet_id: int, etape: int, tentative: int, flow_run_id: UUID | None) -> int:
    settings, cfg, engine = runtime()
    with session_scope(engine) as session:
        project = get_project(session, projet_id)
        context = stage_opened_context(
            session,
            cfg,
            project,
            etape,
            pilots=pilot_persons(session, cfg, project, etape),
            lien=flow_run_url(settings.prefect_ui_url, flow_run_id),
            reason=last_reopen_reason(session, projet_id, etape) if tentative > 1 else None,
        )
        return _send(
            session,
            settings,
            projet_id=projet_id,
            etape=etape,
            kind=MailKind.STAGE_OPENED,
            dedup_key=f"ouverture:{projet_id}:{etape}:{tentative}",
            recipients=addresses(stage_recipients(session, cfg, project, etape)),
            context=context,
            attachments=[stage_attachment(session, cfg, project, etape, dates.today())],
        )


@task(name="demander-decision", **TASK_OPTIONS)
def notify_approval_request(projet_id: int, etape: int, key: str, flow_run_id: UUID | None) -> int:
    """One e-mail per person allowed to decide, each with that person's own code for the gate."""
    settings, cfg, engine = runtime()
    with session_scope(engine) as session:
        project = get_project(session, projet_id)
        link = flow_run_url(settings.prefect_ui_url, flow_run_id) or settings.prefect_ui_url
        return send_approval_requests(session, settings, cfg, project, etape, key, link)


@task(name="notifier-decision", **TASK_OPTIONS)
def notify_decision(projet_id: int, etape: int, key: str, flow_run_id: UUID | None) -> int:
    """The decision as logged under the gate's key, to the stage's pilots and participants."""
    settings, cfg, engine = runtime()
    with session_scope(engine) as session:
        project = get_project(session, projet_id)
        row = session.exec(select(TransitionLog).where(TransitionLog.idempotency_key == key)).one()
        return _send(
            session,
            settings,
            projet_id=projet_id,
            etape=etape,
            kind=MailKind.DECISION,
            dedup_key=f"decision:{key}",
            recipients=addresses(stage_recipients(session, cfg, project, etape)),
            context=logged_decision_context(
                session, cfg, project, row, flow_run_url(settings.prefect_ui_url, flow_run_id)
            ),
        )


@task(name="envoyer-brouillons", **TASK_OPTIONS)
def send_drafts(projet_id: int, document_ids: Sequence[int], flow_run_id: UUID | None) -> int:
    """The project-level drafts (DUI, convention, contract) to the selected SIAE, attached.

    CEPs name a detainee: they stay in the application's storage and are never e-mailed by the flow.
    """
    settings, cfg, engine = runtime()
    with session_scope(engine) as session:
        project = get_project(session, projet_id)
        records = [session.get(DocumentRecord, i) for i in document_ids]
        drafts = [r for r in records if r is not None and r.operateur_id is None]
        if not drafts:
            return 0
        attachments = [Attachment(r.filename, storage.docx_bytes(session, r)) for r in drafts]
        versions = "-".join(str(i) for i in sorted(i for i in document_ids if i in {r.id for r in drafts}))
        return _send(
            session,
            settings,
            projet_id=projet_id,
            etape=cfg.stage_of(DecisionKind.CONVENTION_APPROVAL),
            kind=MailKind.DRAFTS,
            dedup_key=f"brouillons:{projet_id}:{versions}",
            recipients=siae_addresses(session, project),
            context=drafts_context(
                session,
                cfg,
                project,
                [cfg.documents.document[r.kind].titre for r in drafts],
                lien=flow_run_url(settings.prefect_ui_url, flow_run_id),
            ),
            attachments=attachments,
        )


@task(name="notifier-lancement", **TASK_OPTIONS)
def notify_launch(projet_id: int, flow_run_id: UUID | None) -> int:
    settings, cfg, engine = runtime()
    with session_scope(engine) as session:
        project = get_project(session, projet_id)
        return _send(
            session,
            settings,
            projet_id=projet_id,
            etape=cfg.last_stage,
            kind=MailKind.LAUNCH,
            dedup_key=f"lancement:{projet_id}",
            recipients=addresses(stage_recipients(session, cfg, project, cfg.last_stage)),
            context=launch_context(
                session, cfg, project, lien=flow_run_url(settings.prefect_ui_url, flow_run_id)
            ),
        )
