"""Calendars (iCalendar, RFC 5545): stage due dates and COPILs, so people see them where they plan.

Each event has a UID derived from the project's reference and what it marks (a stage, a meeting),
never from its date, and a SEQUENCE kept in :class:`CalendarEvent`: when a date (or its title)
moves, the sequence grows, so calendar programs update the event they already hold instead of
adding a second one. Building a calendar therefore writes those sequences: call it inside the
caller's transaction. Events name stages, establishments and professionals, never a detainee.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlmodel import Session, col, func, select

from implantation.config.schema import ProcessConfig
from implantation.db.models import CalendarEvent, CopilMeeting, Establishment, ImplantationProject, Person
from implantation.enums import ProjectStatus, StageStatus
from implantation.notifications.mailer import Attachment
from implantation.notifications.recipients import stage_recipients
from implantation.services.errors import DomainError
from implantation.services.projects import MEETING_KINDS, timeline

DOMAIN = "siae-penitentiaire"
PRODID = "-//Ministère de la Justice//SIAE en détention//FR"


@dataclass(frozen=True)
class CalendarItem:
    uid: str
    project_id: int
    day: date
    summary: str
    description: str
    location: str
    tentative: bool = False
    cancelled: bool = False


def stage_uid(reference: str, stage: int) -> str:
    return f"{reference.lower()}-etape-{stage}@{DOMAIN}"


def meeting_uid(reference: str, meeting_id: int) -> str:
    return f"{reference.lower()}-reunion-{meeting_id}@{DOMAIN}"


def project_items(
    session: Session, cfg: ProcessConfig, project: ImplantationProject, today: date, stage: int | None = None
) -> list[CalendarItem]:
    """The due date of each stage (opened or projected) and each COPIL or CT, planned or held."""
    assert project.id is not None
    establishment = session.get(Establishment, project.establishment_id)
    assert establishment is not None
    where = f"{establishment.name} ({establishment.city})"
    items: list[CalendarItem] = []
    for row in timeline(session, cfg, project, today):
        if row.due_on is None or (stage is not None and row.stage != stage):
            continue
        summary = f"{project.reference} – échéance de l'étape {row.stage} : {row.title}"
        lines = [
            f"Projet {project.reference}, {where}.",
            f"Pilote(s) : {row.pilots}.",
            f"État : {row.status.label}.",
        ]
        if row.projected:
            summary += " (prévision)"
            lines.append("Date prévisionnelle : l'étape n'est pas encore ouverte.")
        if row.suspended_on is not None:
            summary += " – suspendue"
            lines.append(
                f"Horloge arrêtée depuis le {row.suspended_on:%d/%m/%Y} : {row.suspension_reason or 'attente'}. "
                "L'échéance sera reportée des jours ouvrés d'arrêt à la reprise."
            )
        if row.suspended_days:
            lines.append(f"Échéance déjà reportée de {row.suspended_days} jour(s) ouvré(s) d'arrêt.")
        items.append(
            CalendarItem(
                uid=stage_uid(project.reference, row.stage),
                project_id=project.id,
                day=row.due_on,
                summary=summary,
                description="\n".join(lines),
                location=where,
                tentative=row.projected or row.suspended_on is not None,
                cancelled=row.status == StageStatus.CANCELLED,
            )
        )
    meetings = session.exec(
        select(CopilMeeting).where(CopilMeeting.project_id == project.id).order_by(col(CopilMeeting.id))
    ).all()
    for meeting in meetings:
        if stage is not None and meeting.stage != stage:
            continue
        assert meeting.id is not None
        state = "prévu" if meeting.planned else "tenu"
        lines = [
            f"{MEETING_KINDS.get(meeting.kind, meeting.kind)} de l'étape {meeting.stage}, projet {project.reference}."
        ]
        if meeting.attendees:
            lines.append(f"Participants : {meeting.attendees}")
        if meeting.decisions:
            lines.append(f"Décisions : {meeting.decisions}")
        items.append(
            CalendarItem(
                uid=meeting_uid(project.reference, meeting.id),
                project_id=project.id,
                day=meeting.held_on,
                summary=f"{project.reference} – {meeting.kind} de l'étape {meeting.stage} ({state})",
                description="\n".join(lines),
                location=where,
                tentative=meeting.planned,
                cancelled=project.status == ProjectStatus.ABANDONED and meeting.planned,
            )
        )
    return items


def sequences(session: Session, items: Sequence[CalendarItem]) -> dict[str, int]:
    """Each item's SEQUENCE: 0 when first published, one more each time its date or title changed."""
    known = {
        event.uid: event
        for event in session.exec(
            select(CalendarEvent).where(col(CalendarEvent.uid).in_([i.uid for i in items]))
        )
    }
    result: dict[str, int] = {}
    for item in items:
        event = known.get(item.uid)
        if event is None:
            event = CalendarEvent(
                uid=item.uid,
                project_id=item.project_id,
                sequence=0,
                starts_on=item.day,
                summary=item.summary[:300],
            )
        elif event.starts_on != item.day or event.summary != item.summary[:300]:
            event.sequence += 1
            event.starts_on = item.day
            event.summary = item.summary[:300]
        else:
            result[item.uid] = event.sequence
            continue
        session.add(event)
        result[item.uid] = event.sequence
    session.flush()
    return result


def to_ics(
    items: Iterable[CalendarItem], numbers: dict[str, int], name: str, now: datetime | None = None
) -> bytes:
    from icalendar import Calendar, Event

    stamp = (now or datetime.now(UTC)).astimezone(UTC)
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    for item in items:
        event = Event()
        event.add("uid", item.uid)
        event.add("dtstamp", stamp)
        event.add("dtstart", item.day)
        event.add("dtend", item.day + timedelta(days=1))
        event.add("summary", item.summary)
        event.add("description", item.description)
        event.add("location", item.location)
        event.add("sequence", numbers.get(item.uid, 0))
        event.add("status", "CANCELLED" if item.cancelled else "TENTATIVE" if item.tentative else "CONFIRMED")
        event.add("transp", "TRANSPARENT")
        calendar.add_component(event)
    return calendar.to_ical()


def project_calendar(
    session: Session, cfg: ProcessConfig, project: ImplantationProject, today: date, stage: int | None = None
) -> bytes:
    items = project_items(session, cfg, project, today, stage)
    title = f"Implantation {project.reference}" + (f" – étape {stage}" if stage else "")
    return to_ics(items, sequences(session, items), title)


def projects_of(session: Session, cfg: ProcessConfig, email: str) -> list[ImplantationProject]:
    """Projects where the person with that address leads, pilots or takes part in a stage."""
    wanted = email.strip().lower()
    people = list(session.exec(select(Person).where(func.lower(Person.email) == wanted)))
    if not people:
        raise DomainError(
            f"Champ « personne » : aucune personne enregistrée avec l'adresse « {email} ».", "personne"
        )
    ids = {p.id for p in people}
    found: list[ImplantationProject] = []
    for project in session.exec(select(ImplantationProject).order_by(col(ImplantationProject.reference))):
        if project.lead_id in ids or any(
            person.id in ids
            for number in range(1, len(cfg.stages.etape) + 1)
            for person in stage_recipients(session, cfg, project, number)
        ):
            found.append(project)
    return found


def person_calendar(session: Session, cfg: ProcessConfig, email: str, today: date) -> tuple[bytes, int]:
    """Everything of that person's projects, in one calendar; also returns how many projects."""
    projects = projects_of(session, cfg, email)
    items = [item for project in projects for item in project_items(session, cfg, project, today)]
    return to_ics(items, sequences(session, items), f"Implantations de SIAE – {email.strip()}"), len(projects)


def stage_attachment(
    session: Session, cfg: ProcessConfig, project: ImplantationProject, stage: int, today: date
) -> Attachment:
    """The stage's events (due date, its COPILs) as the .ics attached to its opening e-mail."""
    content = project_calendar(session, cfg, project, today, stage)
    return Attachment(f"etape-{stage}_{project.reference}.ics", content, "text/calendar")
