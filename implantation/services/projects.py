"""Project read models (list, timeline) and the records kept along the way (COPIL, deliverables).

The timeline also projects the stages not yet opened: each is assumed to open when the previous
one is due, with the guide's upper duration, so a lead sees the whole calendar from day one.
"""

from dataclasses import dataclass
from datetime import date

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from implantation.calendar import add_months, next_working_day, public_holiday, stage_due_date
from implantation.config.schema import ProcessConfig
from implantation.dates import days_late
from implantation.db.models import (
    CopilMeeting,
    DeliverableRecord,
    Establishment,
    ImplantationProject,
    Person,
    StageRecord,
)
from implantation.enums import ProjectStatus, Role, StageStatus
from implantation.services.errors import DomainError
from implantation.services.referential import MAX_FREE_TEXT, check_text
from implantation.services.workflow import Actor, get_project

MEETING_KINDS = {"COPIL": "Comité de pilotage", "CT": "Comité technique"}


def find_project(session: Session, ref: str) -> ImplantationProject:
    """A project by its reference (IMP-2026-0001) or its numeric identifier."""
    ref = ref.strip()
    project = session.exec(
        select(ImplantationProject).where(ImplantationProject.reference == ref)
    ).one_or_none()
    if project is None and ref.isdigit():
        project = session.get(ImplantationProject, int(ref))
    if project is None:
        raise DomainError(
            f"Projet introuvable : « {ref} » (référence ou identifiant attendu).", field="projet"
        )
    return project


def pilots(cfg: ProcessConfig, number: int) -> str:
    return " + ".join(role.value.upper().replace("_", " ") for role in cfg.stage(number).pilotes)


@dataclass(frozen=True)
class TimelineRow:
    stage: int
    title: str
    pilots: str
    status: StageStatus
    opened_on: date | None
    due_on: date | None
    closed_on: date | None
    projected: bool
    late_days: int
    moved_from: date | None
    moved_because: str | None


def _move_reason(day: date, departement: str) -> str:
    return public_holiday(day, departement) or ("samedi" if day.weekday() == 5 else "dimanche")


def _late_days(status: StageStatus, due: date | None, closed: date | None, today: date) -> int:
    if due is None:
        return 0
    if status == StageStatus.OPEN:
        return days_late(due, today)
    if status == StageStatus.VALIDATED and closed is not None:
        return days_late(due, closed)
    return 0


def timeline(
    session: Session, cfg: ProcessConfig, project: ImplantationProject, today: date
) -> list[TimelineRow]:
    establishment = session.get(Establishment, project.establishment_id)
    assert establishment is not None
    departement = establishment.departement
    records = session.exec(
        select(StageRecord).where(StageRecord.project_id == project.id).order_by(col(StageRecord.stage))
    ).all()
    rows: list[TimelineRow] = []
    previous_end: date | None = None
    for record in records:
        stage = cfg.stage(record.stage)
        opened, due, projected = record.opened_on, record.due_on, False
        if (
            record.status == StageStatus.PENDING
            and project.status == ProjectStatus.IN_PROGRESS
            and previous_end is not None
        ):
            opened = previous_end
            due = stage_due_date(opened, stage.duree_mois.max, departement)
            projected = True
        moved_from = moved_because = None
        if opened is not None and due is not None:
            nominal = add_months(opened, stage.duree_mois.max)
            if nominal < due and next_working_day(nominal, departement) == due:
                moved_from, moved_because = nominal, _move_reason(nominal, departement)
        rows.append(
            TimelineRow(
                stage=record.stage,
                title=stage.titre,
                pilots=pilots(cfg, record.stage),
                status=record.status,
                opened_on=opened,
                due_on=due,
                closed_on=record.closed_on,
                projected=projected,
                late_days=_late_days(record.status, record.due_on, record.closed_on, today),
                moved_from=moved_from,
                moved_because=moved_because,
            )
        )
        previous_end = record.closed_on or due
    return rows


@dataclass(frozen=True)
class ProjectRow:
    project_id: int
    reference: str
    establishment: str
    status: ProjectStatus
    stage: int
    stage_title: str
    stage_status: StageStatus
    due_on: date | None
    late_days: int


def list_projects(
    session: Session,
    cfg: ProcessConfig,
    today: date,
    started_from: date | None = None,
    started_to: date | None = None,
) -> list[ProjectRow]:
    """Projects with their current stage; optionally those started within a period."""
    if started_from and started_to and started_from > started_to:
        raise DomainError(
            f"Dates inversées : « --du » ({started_from:%d/%m/%Y}) est postérieure à « --au » "
            f"({started_to:%d/%m/%Y}).",
            field="au",
        )
    query = select(ImplantationProject, Establishment).where(
        ImplantationProject.establishment_id == Establishment.id
    )
    if started_from:
        query = query.where(ImplantationProject.started_on >= started_from)
    if started_to:
        query = query.where(ImplantationProject.started_on <= started_to)
    rows = []
    for project, establishment in session.exec(query.order_by(col(ImplantationProject.reference))):
        assert project.id is not None
        record = session.exec(
            select(StageRecord).where(
                StageRecord.project_id == project.id, StageRecord.stage == project.current_stage
            )
        ).one()
        rows.append(
            ProjectRow(
                project_id=project.id,
                reference=project.reference,
                establishment=establishment.name,
                status=project.status,
                stage=record.stage,
                stage_title=cfg.stage(record.stage).titre,
                stage_status=record.status,
                due_on=record.due_on,
                late_days=_late_days(record.status, record.due_on, record.closed_on, today),
            )
        )
    return rows


def parse_date(raw: str, field: str) -> date:
    """A user date, AAAA-MM-JJ or JJ/MM/AAAA, with a French message naming the field."""
    text = raw.strip()
    try:
        if "/" in text:
            day, month, year = (int(part) for part in text.split("/"))
            return date(year, month, day)
        return date.fromisoformat(text)
    except ValueError:
        raise DomainError(
            f"Champ « {field} » : date invalide « {raw[:40]} » (format attendu AAAA-MM-JJ ou JJ/MM/AAAA).",
            field=field,
        ) from None


def _text(field: str, value: str | None, required: bool, max_length: int = MAX_FREE_TEXT) -> str | None:
    text = (value or "").strip()
    if not text:
        if required:
            raise DomainError(f"Champ « {field} » : valeur obligatoire manquante.", field=field)
        return None
    problems = check_text(field, text, max_length, multiline=True)
    if problems:
        raise DomainError(problems[0].capitalize() + ".", field=field)
    return text


def _stage_number(cfg: ProcessConfig, number: int) -> int:
    if number not in cfg.stage_numbers:
        raise DomainError(
            f"Champ « etape » : numéro d'étape {number} invalide (1 à {cfg.last_stage}).", field="etape"
        )
    return number


def _not_before_start(project: ImplantationProject, day: date, field: str) -> None:
    if day < project.started_on:
        raise DomainError(
            f"Dates inversées : « {field} » ({day:%d/%m/%Y}) est antérieure au début du projet "
            f"({project.started_on:%d/%m/%Y}).",
            field=field,
        )


def _editable(project: ImplantationProject) -> None:
    if project.status == ProjectStatus.ABANDONED:
        raise DomainError(
            f"Le projet {project.reference} est abandonné : plus aucun enregistrement.", field="projet"
        )


def record_copil(
    session: Session,
    cfg: ProcessConfig,
    project_id: int,
    stage: int,
    held_on: date,
    attendees: str,
    decisions: str,
    minutes_ref: str | None = None,
    kind: str = "COPIL",
) -> CopilMeeting:
    """A steering (COPIL) or technical (CT) committee, with who came and what was decided."""
    project = get_project(session, project_id)
    _editable(project)
    _stage_number(cfg, stage)
    wanted = kind.strip().upper()
    if wanted not in MEETING_KINDS:
        raise DomainError(f"Champ « type » : « {kind} » inconnu (COPIL ou CT).", field="type")
    _not_before_start(project, held_on, "date")
    meeting = CopilMeeting(
        project_id=project_id,
        stage=stage,
        kind=wanted,
        held_on=held_on,
        attendees=_text("participants", attendees, True) or "",
        decisions=_text("decisions", decisions, True) or "",
        minutes_ref=_text("compte_rendu", minutes_ref, False, 300),
    )
    session.add(meeting)
    session.flush()
    return meeting


def record_deliverable(
    session: Session,
    cfg: ProcessConfig,
    project_id: int,
    stage: int,
    kind: str,
    received_on: date,
    reference: str | None = None,
) -> DeliverableRecord:
    """A deliverable of the guide received for a stage; its kind comes from ``config/etapes.toml``."""
    project = get_project(session, project_id)
    _editable(project)
    _stage_number(cfg, stage)
    expected = {d.id: d.titre for d in cfg.stage(stage).livrables}
    wanted = kind.strip()
    if wanted not in expected:
        allowed = ", ".join(expected) or "aucun"
        raise DomainError(
            f"Champ « type » : livrable « {wanted[:60]} » inconnu pour l'étape {stage} (attendus : {allowed}).",
            field="type",
        )
    _not_before_start(project, received_on, "date")
    duplicate = session.exec(
        select(DeliverableRecord).where(
            DeliverableRecord.project_id == project_id,
            DeliverableRecord.stage == stage,
            DeliverableRecord.kind == wanted,
        )
    ).first()
    if duplicate is not None:
        raise DomainError(
            f"Champ « type » : le livrable « {expected[wanted]} » de l'étape {stage} est déjà enregistré "
            f"(reçu le {duplicate.received_on:%d/%m/%Y}).",
            field="type",
        )
    record = DeliverableRecord(
        project_id=project_id,
        stage=stage,
        kind=wanted,
        received_on=received_on,
        reference=_text("reference", reference, False, 300),
    )
    session.add(record)
    try:
        session.flush()
    except IntegrityError:
        raise DomainError("Ce livrable vient d'être enregistré par ailleurs.", field="type") from None
    return record


def actor_for(session: Session, person_id: int | None, default_label: str) -> Actor:
    """The person acting from the command line, or a plain label when none is given."""
    if person_id is None:
        return Actor(label=default_label)
    person = session.get(Person, person_id)
    if person is None:
        raise DomainError(f"Champ « par » : personne introuvable (identifiant {person_id}).", field="par")
    return Actor.of(person)


def disp_leads(session: Session) -> list[Person]:
    return list(session.exec(select(Person).where(Person.role == Role.DISP).order_by(col(Person.id))))
