"""E-mails of the stage flows through ``send_once``: the dedup key names the event, so a replay sends nothing.

Each task commits right after sending (see ``implantation.notifications.mailer``) and returns how many
e-mails went out, never the addresses.
"""

from collections.abc import Sequence
from uuid import UUID

from prefect import task
from sqlmodel import Session, col, select

from implantation.config.schema import ProcessConfig
from implantation.db.models import DocumentRecord, Person, Siae, TransitionLog
from implantation.db.session import session_scope
from implantation.documents.service import project_dir
from implantation.enums import Decision
from implantation.notifications.context import (
    approval_request_context,
    decision_context,
    drafts_context,
    flow_run_url,
    launch_context,
    stage_opened_context,
)
from implantation.notifications.mailer import Attachment, MailKind, send_once
from implantation.notifications.recipients import addresses, persons_for_role, pilot_persons, stage_recipients
from implantation.services.workflow import get_project, get_stage
from implantation.transitions import StageTransition
from tasks.common import TASK_OPTIONS, runtime


def _deciders(session: Session, cfg: ProcessConfig, project_id: int, stage: int) -> list[Person]:
    project = get_project(session, project_id)
    roles = [role for decision in cfg.stage(stage).decisions for role in decision.roles]
    seen: dict[int | None, Person] = {}
    for role in roles:
        for person in persons_for_role(session, cfg, project, role):
            seen.setdefault(person.id, person)
    return list(seen.values())


def _reopen_reason(session: Session, project_id: int, stage: int) -> str | None:
    row = session.exec(
        select(TransitionLog)
        .where(
            TransitionLog.project_id == project_id,
            TransitionLog.stage == stage,
            TransitionLog.transition == StageTransition.REOPEN.value,
        )
        .order_by(col(TransitionLog.id).desc())
    ).first()
    return row.reason if row else None


@task(name="notifier-ouverture", **TASK_OPTIONS)
def notify_stage_opened(projet_id: int, etape: int, tentative: int, flow_run_id: UUID | None) -> int:
    settings, cfg, engine = runtime()
    with session_scope(engine) as session:
        project = get_project(session, projet_id)
        people = stage_recipients(session, cfg, project, etape)
        if not people:
            return 0
        context = stage_opened_context(
            session,
            cfg,
            project,
            etape,
            pilots=pilot_persons(session, cfg, project, etape),
            lien=flow_run_url(settings.prefect_ui_url, flow_run_id),
            reason=_reopen_reason(session, projet_id, etape) if tentative > 1 else None,
        )
        sent = send_once(
            session,
            settings,
            project_id=projet_id,
            stage=etape,
            kind=MailKind.STAGE_OPENED,
            dedup_key=f"ouverture:{projet_id}:{etape}:{tentative}",
            recipients=addresses(people),
            context=context,
        )
        return int(sent is not None)


@task(name="demander-decision", **TASK_OPTIONS)
def notify_approval_request(projet_id: int, etape: int, key: str, flow_run_id: UUID | None) -> int:
    settings, cfg, engine = runtime()
    with session_scope(engine) as session:
        project = get_project(session, projet_id)
        people = _deciders(session, cfg, projet_id, etape)
        link = flow_run_url(settings.prefect_ui_url, flow_run_id) or settings.prefect_ui_url
        if not people:
            return 0
        sent = send_once(
            session,
            settings,
            project_id=projet_id,
            stage=etape,
            kind=MailKind.APPROVAL_REQUEST,
            dedup_key=f"demande:{key}",
            recipients=addresses(people),
            context=approval_request_context(session, cfg, project, etape, lien_decision=link),
        )
        return int(sent is not None)


@task(name="notifier-decision", **TASK_OPTIONS)
def notify_decision(projet_id: int, etape: int, key: str, flow_run_id: UUID | None) -> int:
    """The decision as logged under the gate's key, to the stage's pilots and participants."""
    settings, cfg, engine = runtime()
    with session_scope(engine) as session:
        project = get_project(session, projet_id)
        row = session.exec(select(TransitionLog).where(TransitionLog.idempotency_key == key)).one()
        decision = Decision(row.transition)
        target = project.current_stage if decision == Decision.SEND_BACK else None
        people = stage_recipients(session, cfg, project, etape)
        sent = send_once(
            session,
            settings,
            project_id=projet_id,
            stage=etape,
            kind=MailKind.DECISION,
            dedup_key=f"decision:{key}",
            recipients=addresses(people),
            context=decision_context(
                session,
                cfg,
                project,
                etape,
                decision=decision,
                author=row.actor_label,
                decided_at=row.at,
                reason=row.reason,
                target_stage=target,
                lien=flow_run_url(settings.prefect_ui_url, flow_run_id),
            ),
        )
        return int(sent is not None)


def _siae_addresses(session: Session, siae_id: int | None) -> list[str]:
    if siae_id is None:
        return []
    siae = session.get(Siae, siae_id)
    staff = session.exec(select(Person).where(Person.siae_id == siae_id).order_by(col(Person.id)))
    return [*([siae.email] if siae and siae.email else []), *(p.email for p in staff)]


@task(name="envoyer-brouillons", **TASK_OPTIONS)
def send_drafts(projet_id: int, document_ids: Sequence[int], flow_run_id: UUID | None) -> int:
    """The project-level drafts (DUI, convention, contract) to the selected SIAE, attached.

    CEPs name a detainee: they stay in the documents directory and are never e-mailed by the flow.
    """
    settings, cfg, engine = runtime()
    with session_scope(engine) as session:
        project = get_project(session, projet_id)
        records = [session.get(DocumentRecord, i) for i in document_ids]
        drafts = [r for r in records if r is not None and r.operateur_id is None]
        recipients = _siae_addresses(session, project.siae_id)
        if not drafts or not recipients:
            return 0
        folder = project_dir(settings, project.reference)
        attachments = [Attachment(r.filename, (folder / r.filename).read_bytes()) for r in drafts]
        versions = "-".join(f"{r.id}" for r in sorted(drafts, key=lambda r: r.id or 0))
        sent = send_once(
            session,
            settings,
            project_id=projet_id,
            stage=5,
            kind=MailKind.DRAFTS,
            dedup_key=f"brouillons:{projet_id}:{versions}",
            recipients=recipients,
            context=drafts_context(
                session,
                cfg,
                project,
                [cfg.documents.document[r.kind].titre for r in drafts],
                lien=flow_run_url(settings.prefect_ui_url, flow_run_id),
            ),
            attachments=attachments,
        )
        return int(sent is not None)


@task(name="notifier-lancement", **TASK_OPTIONS)
def notify_launch(projet_id: int, flow_run_id: UUID | None) -> int:
    settings, cfg, engine = runtime()
    with session_scope(engine) as session:
        project = get_project(session, projet_id)
        get_stage(session, projet_id, 6)
        people = stage_recipients(session, cfg, project, 6)
        sent = send_once(
            session,
            settings,
            project_id=projet_id,
            stage=6,
            kind=MailKind.LAUNCH,
            dedup_key=f"lancement:{projet_id}",
            recipients=addresses(people),
            context=launch_context(
                session, cfg, project, lien=flow_run_url(settings.prefect_ui_url, flow_run_id)
            ),
        )
        return int(sent is not None)
