"""Stage deadlines: one reminder before the due date, then a weekly escalation until the stage is validated.

Everything is computed from the database and ``today`` (a parameter, never the clock), so a sweep
can be replayed for any date. The :class:`NotificationRecord` rows are the record of what went out:
their deduplication key names the project, the stage, the stage's attempt (a reopened stage starts
afresh), the kind, the escalation number and, once a stopped clock moved it, the due date (the new date
gets its own reminder), so a restarted sweep sends nothing twice and a sweep missed for three weeks sends
one escalation, not three.
"""

import logging
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlmodel import Session, col, select

from implantation import dates
from implantation.calendar import reminder_date
from implantation.config.schema import ProcessConfig
from implantation.db.models import Establishment, ImplantationProject, NotificationRecord, StageRecord
from implantation.enums import ProjectStatus, StageStatus
from implantation.notifications.context import escalation_context, reminder_context
from implantation.notifications.mailer import MailError, MailKind, send_once
from implantation.notifications.recipients import (
    addresses,
    escalation_recipients,
    pilot_persons,
    stage_recipients,
)
from implantation.services.errors import DomainError
from implantation.services.workflow import get_project, get_stage
from implantation.settings import Settings

logger = logging.getLogger(__name__)

DEADLINE_KINDS = (MailKind.REMINDER, MailKind.ESCALATION)


@dataclass(frozen=True)
class DeadlineAction:
    project_id: int
    stage: int
    kind: MailKind
    dedup_key: str
    due_on: date
    days_late: int

    @property
    def escalation_number(self) -> int:
        """0 for the first escalation (and for a reminder); read back from the key."""
        parsed = _parse_key(self.dedup_key)
        assert parsed is not None
        return parsed[4]


def deadline_key(
    project_id: int, stage: int, attempt: int, kind: MailKind, number: int = 0, moved_to: date | None = None
) -> str:
    """``moved_to``: the due date once a stopped clock moved it, so that the reminder and escalations of the
    new date go out although those of the old one did (the key of an unmoved date keeps its old form)."""
    key = f"echeance:{project_id}:{stage}:{attempt}:{kind.value}:{number}"
    return f"{key}:{moved_to.isoformat()}" if moved_to is not None else key


def _parse_key(key: str) -> tuple[int, int, int, str, int] | None:
    parts = key.split(":")
    if len(parts) not in (6, 7) or parts[0] != "echeance":
        return None
    try:
        return int(parts[1]), int(parts[2]), int(parts[3]), parts[4], int(parts[5])
    except ValueError:
        return None


def _action_for(
    cfg: ProcessConfig, project_id: int, record: StageRecord, departement: str, today: date
) -> DeadlineAction | None:
    due = record.due_on
    if due is None:
        return None
    moved_to = due if record.suspended_days else None
    if today > due:
        late = dates.days_late(due, today)
        number = (late - 1) // cfg.calendar.relance_intervalle_jours
        key = deadline_key(project_id, record.stage, record.attempt, MailKind.ESCALATION, number, moved_to)
        return DeadlineAction(project_id, record.stage, MailKind.ESCALATION, key, due, late)
    if reminder_date(due, cfg.calendar, departement) <= today:
        key = deadline_key(project_id, record.stage, record.attempt, MailKind.REMINDER, moved_to=moved_to)
        return DeadlineAction(project_id, record.stage, MailKind.REMINDER, key, due, 0)
    return None


def deadline_actions(session: Session, cfg: ProcessConfig, today: date) -> list[DeadlineAction]:
    """The reminders and escalations due ``today`` that have not gone out yet."""
    rows = session.exec(
        select(StageRecord, Establishment.departement)
        .join(ImplantationProject, col(ImplantationProject.id) == col(StageRecord.project_id))
        .join(Establishment, col(Establishment.id) == col(ImplantationProject.establishment_id))
        .where(
            StageRecord.status == StageStatus.OPEN,
            ImplantationProject.status == ProjectStatus.IN_PROGRESS,
        )
        .order_by(col(StageRecord.project_id), col(StageRecord.stage))
    ).all()
    candidates = [
        _action_for(cfg, record.project_id, record, departement, today) for record, departement in rows
    ]
    actions = [a for a in candidates if a is not None]
    if not actions:
        return []
    sent = set(
        session.exec(
            select(NotificationRecord.dedup_key).where(
                col(NotificationRecord.dedup_key).in_([a.dedup_key for a in actions]),
                col(NotificationRecord.pending).is_(False),  # a crashed sender's claim is sent again
            )
        )
    )
    return [a for a in actions if a.dedup_key not in sent]


def send_deadline_action(
    session: Session, cfg: ProcessConfig, settings: Settings, action: DeadlineAction, today: date
) -> NotificationRecord | None:
    """Reminders go to the stage's pilots and participants; escalations to the pilots and their hierarchy."""
    project = get_project(session, action.project_id)
    if action.kind == MailKind.REMINDER:
        context = reminder_context(session, cfg, project, action.stage, today)
        people = stage_recipients(session, cfg, project, action.stage)
    else:
        context = escalation_context(session, cfg, project, action.stage, today, action.escalation_number)
        pilots = pilot_persons(session, cfg, project, action.stage)
        people = [*pilots, *escalation_recipients(session, cfg, project, action.stage)]
    session.commit()  # the e-mail's claim is written by a session of its own
    return send_once(
        session,
        settings,
        project_id=action.project_id,
        stage=action.stage,
        kind=action.kind,
        dedup_key=action.dedup_key,
        recipients=addresses(people),
        context=context,
    )


@dataclass
class SweepReport:
    sent: list[NotificationRecord] = field(default_factory=list)
    failures: list[tuple[DeadlineAction, str]] = field(default_factory=list)


def sweep_deadlines(session: Session, cfg: ProcessConfig, settings: Settings, today: date) -> SweepReport:
    """Send every due action; a failed mail is reported and left for the next sweep, the others go out.

    A failed :func:`send_once` leaves nothing in the session, so the caller may commit the mails that
    did go out even when some failed.
    """
    report = SweepReport()
    for action in deadline_actions(session, cfg, today):
        try:
            record = send_deadline_action(session, cfg, settings, action, today)
        except MailError as exc:
            logger.warning("Échéance non notifiée (clé %s) : %s", action.dedup_key, exc)
            report.failures.append((action, str(exc)))
            continue
        if record is not None:
            report.sent.append(record)
    return report


class DeadlineSweepError(MailError):
    """Some deadline mails failed; ``sent`` lists those that went out and must be committed."""

    def __init__(self, message: str, sent: list[NotificationRecord]) -> None:
        super().__init__(message)
        self.sent = sent


def run_deadline_sweep(
    session: Session, cfg: ProcessConfig, settings: Settings, today: date
) -> list[NotificationRecord]:
    """Apply today's deadline actions; raise :class:`DeadlineSweepError` if any mail failed.

    Before letting the error roll the transaction back, commit the session: the records in
    ``err.sent`` are mails that did go out (otherwise a retry would send them again).
    """
    report = sweep_deadlines(session, cfg, settings, today)
    if report.failures:
        details = " ; ".join(f"projet {a.project_id}, étape {a.stage} : {msg}" for a, msg in report.failures)
        raise DeadlineSweepError(
            f"{len(report.failures)} courriel(s) d'échéance non envoyé(s), "
            f"{len(report.sent)} envoyé(s). {details}",
            report.sent,
        )
    return report.sent


@dataclass(frozen=True)
class StageDeadlineState:
    stage: int
    status: StageStatus
    attempt: int
    due_on: date | None
    days_late: int
    reminders_sent: int
    escalations_sent: int
    last_escalation_at: datetime | None
    last_escalation_number: int | None


def deadline_state(session: Session, project_id: int, today: date | None = None) -> list[StageDeadlineState]:
    """Per stage: due date, days late (open stages only) and the reminders of its current attempt."""
    today = today or dates.today()
    project = get_project(session, project_id)
    records = session.exec(
        select(NotificationRecord).where(
            NotificationRecord.project_id == project_id,
            col(NotificationRecord.kind).in_([k.value for k in DEADLINE_KINDS]),
        )
    ).all()
    states: list[StageDeadlineState] = []
    for number in sorted(
        r.stage for r in session.exec(select(StageRecord).where(StageRecord.project_id == project_id))
    ):
        try:
            stage = get_stage(session, project_id, number)
        except DomainError:
            continue
        mine = [
            (parsed, r)
            for r in records
            if (parsed := _parse_key(r.dedup_key)) is not None and parsed[1:3] == (number, stage.attempt)
        ]
        escalations = sorted(
            # By sending time: a due date moved by a stopped clock numbers its escalations afresh.
            ((p, r) for p, r in mine if p[3] == MailKind.ESCALATION.value),
            key=lambda item: (item[1].sent_at, item[0][4]),
        )
        late = (
            dates.days_late(stage.due_on, today)
            if stage.status == StageStatus.OPEN and project.status == ProjectStatus.IN_PROGRESS
            else 0
        )
        states.append(
            StageDeadlineState(
                stage=number,
                status=stage.status,
                attempt=stage.attempt,
                due_on=stage.due_on,
                days_late=late,
                reminders_sent=sum(1 for p, _ in mine if p[3] == MailKind.REMINDER.value),
                escalations_sent=len(escalations),
                last_escalation_at=escalations[-1][1].sent_at if escalations else None,
                last_escalation_number=escalations[-1][0][4] + 1 if escalations else None,
            )
        )
    return states
