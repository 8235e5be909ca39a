"""The e-mails of the one-time decision codes: each person's own code, a code re-sent, a gate locked.

A code travels only in the body of an e-mail to its person: the notification record keeps the subject
and the address, Prefect only a count, and the code itself is never stored (it is recomputed).
"""

from datetime import datetime

from sqlmodel import Session, col, func, select

from implantation.config.schema import ProcessConfig
from implantation.dates import fr_datetime
from implantation.db.models import ImplantationProject, NotificationRecord, Person, TransitionLog
from implantation.enums import StageStatus
from implantation.keys import stage_attempt_key
from implantation.notifications.context import approval_request_context, base_context
from implantation.notifications.mailer import MailKind, send_once
from implantation.notifications.recipients import addresses, decider_persons, pilot_persons
from implantation.services import gate_codes
from implantation.services.decisions import approver_problems
from implantation.services.errors import DomainError
from implantation.services.workflow import get_stage
from implantation.settings import Settings


def send_approval_requests(
    session: Session,
    settings: Settings,
    cfg: ProcessConfig,
    project: ImplantationProject,
    stage: int,
    key: str,
    link: str,
) -> int:
    """One approval request per person allowed to decide, each with that person's code; committed one by one."""
    assert project.id is not None
    secret = gate_codes.gate_secret(settings)
    sent = 0
    for person in decider_persons(session, cfg, project, stage):
        assert person.id is not None
        code = gate_codes.current_code(session, secret, project.id, stage, person.id, key)
        session.commit()  # each e-mail's claim is written by a session of its own
        record = send_once(
            session,
            settings,
            project_id=project.id,
            stage=stage,
            kind=MailKind.APPROVAL_REQUEST,
            dedup_key=f"demande:{key}:{person.id}",
            recipients=[person.email],
            context=approval_request_context(session, cfg, project, stage, lien_decision=link, code=code),
        )
        session.commit()
        sent += record is not None
    return sent


def resend_code(
    session: Session,
    settings: Settings,
    cfg: ProcessConfig,
    project: ImplantationProject,
    stage: int,
    email: str,
    link: str | None = None,
    *,
    requested_by: str,
) -> Person:
    """Send ``email`` its code for the open gate of ``stage``, and log that it was sent (not the code).

    Called inside a run (deployment ``renvoyer-code``): the secret is where runs execute. ``requested_by``
    says in the journal where the request came from."""
    assert project.id is not None
    record = get_stage(session, project.id, stage)
    if record.status not in (
        StageStatus.OPEN,
        StageStatus.SUSPENDED,
    ):  # a suspended gate awaits « reprendre »
        raise DomainError(
            f"Étape {stage} : aucune décision attendue (« {record.status.label} »), aucun code à renvoyer.",
            field="etape",
        )
    people = list(
        session.exec(
            select(Person).where(func.lower(Person.email) == email.strip().lower()).order_by(col(Person.id))
        )
    )
    if not people:
        raise DomainError(f"Aucune personne enregistrée avec l'adresse « {email} ».", field="personne")
    allowed = [p for p in people if not approver_problems(session, cfg, project, p, stage)]
    if not allowed:
        why = "; ".join(approver_problems(session, cfg, project, people[0], stage))
        raise DomainError(f"« {email} » ne peut pas décider à l'étape {stage} : {why}.", field="personne")
    person = allowed[0]
    assert person.id is not None
    key = _current_gate_key(session, project.id, stage, record.attempt)
    if key is None:
        raise DomainError(
            f"Étape {stage} : aucune demande de décision n'a encore été envoyée, aucun code à renvoyer.",
            field="etape",
        )
    code = gate_codes.current_code(
        session, gate_codes.gate_secret(settings), project.id, stage, person.id, key
    )
    row = TransitionLog(
        project_id=project.id,
        stage=stage,
        transition=gate_codes.RESENT,
        actor_label=requested_by[:200],
        reason=f"code de décision de l'étape {stage} (tentative {record.attempt}) renvoyé à {person.email}",
    )
    session.add(row)
    session.flush()
    context = {**base_context(session, cfg, project, stage, link), "code": code}
    session.commit()  # the log row stands before the e-mail goes (its claim has a session of its own)
    send_once(
        session,
        settings,
        project_id=project.id,
        stage=stage,
        kind=MailKind.CODE_RESENT,
        dedup_key=f"code:{project.id}:{stage}:{record.attempt}:{person.id}:{row.id}",
        recipients=[person.email],
        context=context,
    )
    return person


def send_lock_alert(
    session: Session,
    settings: Settings,
    cfg: ProcessConfig,
    project: ImplantationProject,
    stage: int,
    until: datetime,
    key: str,
) -> int:
    """Tell the stage's pilots (and the DISP lead) that wrong codes locked the gate."""
    assert project.id is not None
    recipients = list(
        dict.fromkeys(addresses([*pilot_persons(session, cfg, project, stage), *_lead(session, project)]))
    )
    if not recipients:
        return 0
    context = {
        **base_context(session, cfg, project, stage),
        "essais": gate_codes.MAX_WRONG_CODES,
        "jusqu_au": fr_datetime(until),
    }
    session.commit()  # the e-mail's claim is written by a session of its own
    sent = send_once(
        session,
        settings,
        project_id=project.id,
        stage=stage,
        kind=MailKind.GATE_LOCKED,
        dedup_key=f"verrouillage:{key}",
        recipients=recipients,
        context=context,
    )
    return int(sent is not None)


def _current_gate_key(session: Session, project_id: int, stage: int, attempt: int) -> str | None:
    """The key of the gate now waiting: the one of the last approval request sent for this attempt."""
    prefix = f"demande:{stage_attempt_key(project_id, stage, attempt)}-"
    last = session.exec(
        select(NotificationRecord.dedup_key)
        .where(
            NotificationRecord.project_id == project_id, col(NotificationRecord.dedup_key).startswith(prefix)
        )
        .order_by(col(NotificationRecord.id).desc())
    ).first()
    return last.removeprefix("demande:").rsplit(":", 1)[0] if last else None


def _lead(session: Session, project: ImplantationProject) -> list[Person]:
    lead = session.get(Person, project.lead_id)
    return [lead] if lead else []
