"""``siae projet …``: create, list, follow and abandon implantation projects."""

from datetime import date
from typing import TYPE_CHECKING

import typer
from rich.markup import escape
from rich.table import Table
from sqlmodel import Session

from implantation import dates
from implantation.cli.common import database, fmt, handled, out, parse_id, process_config
from implantation.cli.hooks import AFTER_ABANDON, CLI_ACTOR
from implantation.config.schema import ProcessConfig
from implantation.db.models import Establishment, ImplantationProject, Person
from implantation.enums import Role, StageStatus
from implantation.services import choices, workflow
from implantation.services.errors import DomainError
from implantation.services.projects import (
    actor_for,
    find_project,
    list_projects,
    parse_date,
    record_copil,
    record_deliverable,
    timeline,
)
from implantation.services.referential import check_text

if TYPE_CHECKING:
    from implantation.deadlines import StageDeadlineState

projet_app = typer.Typer(
    help="Projets d'implantation : création, suivi, chronologie, abandon.", no_args_is_help=True
)


def _today() -> date:
    return dates.today()


def _late(days: int) -> str:
    return f"[bold red]{days}[/]" if days else "0"


def timeline_table(session: Session, cfg: ProcessConfig, project: ImplantationProject, today: date) -> Table:
    establishment = session.get(Establishment, project.establishment_id)
    lead = session.get(Person, project.lead_id)
    assert establishment is not None and lead is not None
    table = Table(
        title=escape(
            f"Chronologie du projet {project.reference} — {establishment.name} ({establishment.departement})"
        ),
        caption=(
            f"Chef de projet : {escape(lead.full_name)} · statut : {project.status.label} · "
            f"début : {fmt(project.started_on)} · situation au {fmt(today)}"
        ),
        show_lines=True,
    )
    for column, justify in (
        ("Étape", "right"),
        ("Intitulé", "left"),
        ("Pilote", "left"),
        ("État", "left"),
        ("Ouverte le", "left"),
        ("Échéance", "left"),
        ("Clôturée le", "left"),
        ("Retard (j)", "right"),
        ("Rappels, relances", "left"),
    ):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    from implantation.deadlines import deadline_state  # here: the other commands never pay for it

    assert project.id is not None
    sent = {state.stage: state for state in deadline_state(session, project.id, today)}
    for row in timeline(session, cfg, project, today):
        due = fmt(row.due_on)
        if row.moved_from is not None:
            due += f"\n(au lieu du {fmt(row.moved_from)} : {row.moved_because})"
        opened = fmt(row.opened_on)
        state = row.status.label
        if row.suspended_on is not None:
            state = f"[yellow]Suspendue depuis le {fmt(row.suspended_on)}[/]"
            if row.suspension_reason:
                state += f"\n{escape(row.suspension_reason)}"
        if row.suspended_days:
            due += f"\n(+{row.suspended_days} j ouvrés d'arrêt)"
        if row.projected:
            state += " (prévision)"
            opened = f"[dim]{opened}[/]"
            due = f"[dim]{due}[/]"
        table.add_row(
            str(row.stage),
            escape(row.title),
            row.pilots,
            state,
            opened,
            due,
            fmt(row.closed_on),
            _late(row.late_days),
            _reminders(sent.get(row.stage)),
        )
    return table


def _reminders(state: "StageDeadlineState | None") -> str:
    """What the daily sweep sent for the stage's current attempt: reminders, then escalations."""
    if state is None or not (state.reminders_sent or state.escalations_sent):
        return "—"
    lines = []
    if state.reminders_sent:
        lines.append(f"{state.reminders_sent} rappel(s)")
    if state.escalations_sent:
        last = f" (n° {state.last_escalation_number}" if state.last_escalation_number else " ("
        when = state.last_escalation_at.date() if state.last_escalation_at else None
        lines.append(f"{state.escalations_sent} relance(s){last} le {fmt(when)})")
    return "\n".join(lines)


@projet_app.command("creer")
def create(
    etablissement: str = typer.Option(
        ..., "--etablissement", help="Code de l'établissement (ex. CP-GRENOBLE-VARCES) ou identifiant"
    ),
    chef: str = typer.Option(
        ..., "--chef", help="Adresse électronique ou identifiant du chef de projet DISP"
    ),
    debut: str | None = typer.Option(
        None, "--debut", help="Date de début (AAAA-MM-JJ) ; aujourd'hui par défaut"
    ),
) -> None:
    """Crée un projet d'implantation et ouvre l'étape 1 (pilotée par la DISP)."""
    with handled():
        started_on = parse_date(debut, "debut") if debut else _today()
        cfg = process_config()
        with database() as session:
            site = choices.establishment(session, etablissement)
            lead = choices.person(session, chef, "chef", Role.DISP)
            assert site.id is not None and lead.id is not None
            actor = workflow.Actor.of(lead)
            project = workflow.create_project(session, cfg, site.id, lead.id, started_on, actor)
            reference = project.reference
            table = timeline_table(session, cfg, project, _today())
        out.print(escape(f"Projet créé : {reference}."))
        out.print(table)


@projet_app.command("lister")
def list_(
    du: str | None = typer.Option(None, "--du", help="Projets commencés à partir de cette date"),
    au: str | None = typer.Option(None, "--au", help="Projets commencés jusqu'à cette date"),
) -> None:
    """Liste les projets avec leur étape en cours, son échéance et le retard."""
    with handled():
        start = parse_date(du, "du") if du else None
        end = parse_date(au, "au") if au else None
        cfg = process_config()
        today = _today()
        with database() as session:
            rows = list_projects(session, cfg, today, start, end)
        if not rows:
            out.print("Aucun projet.")
            return
        table = Table(title=f"Projets d'implantation au {fmt(today)}")
        for column in (
            "Id",
            "Référence",
            "Établissement",
            "Statut",
            "Étape",
            "État de l'étape",
            "Échéance",
            "Retard (j)",
        ):
            table.add_column(column)
        for row in rows:
            table.add_row(
                str(row.project_id),
                escape(row.reference),
                escape(row.establishment),
                row.status.label,
                escape(f"{row.stage}. {row.stage_title}"),
                row.stage_status.label,
                fmt(row.due_on) if row.stage_status in (StageStatus.OPEN, StageStatus.SUSPENDED) else "—",
                _late(row.late_days),
            )
        out.print(table)


@projet_app.command("chronologie")
def show_timeline(projet: str = typer.Argument(..., help="Référence (IMP-2026-0001) ou identifiant")) -> None:
    """Affiche les étapes d'un projet avec leurs échéances (jours fériés et week-ends reportés)."""
    with handled():
        cfg = process_config()
        with database() as session:
            table = timeline_table(session, cfg, find_project(session, projet), _today())
        out.print(table)


@projet_app.command("abandonner")
def abandon(
    projet: str = typer.Argument(..., help="Référence ou identifiant du projet"),
    motif: str = typer.Option(..., "--motif", help="Motif de l'abandon (obligatoire)"),
    par: str | None = typer.Option(None, "--par", help="Identifiant de la personne qui décide"),
) -> None:
    """Abandonne un projet : les étapes non validées sont annulées, le motif est journalisé."""
    with handled():
        problems = check_text("motif", motif.strip(), 5000, multiline=True)
        if problems:
            raise DomainError(problems[0].capitalize() + ".", field="motif")
        with database() as session:
            project = find_project(session, projet)
            actor = actor_for(session, parse_id(par, "par") if par else None, CLI_ACTOR)
            workflow.abandon(session, project, motif.strip(), actor)
            reference, project_id = project.reference, project.id
        out.print(f"Projet {reference} abandonné. Motif enregistré.")
        assert project_id is not None
        for hook in AFTER_ABANDON:
            for line in hook(project_id, actor.person_id):
                out.print(line)


@projet_app.command("copil")
def copil(
    projet: str = typer.Argument(..., help="Référence ou identifiant du projet"),
    etape: str = typer.Option(..., "--etape", help="Numéro de l'étape (voir config/etapes.toml)"),
    le: str = typer.Option(..., "--date", help="Date de la réunion, tenue ou prévue (AAAA-MM-JJ)"),
    participants: str | None = typer.Option(
        None,
        "--participants",
        help="Participants (organismes et personnes) ; obligatoire pour une réunion tenue",
    ),
    decisions: str | None = typer.Option(
        None, "--decisions", help="Décisions prises ; obligatoire pour une réunion tenue"
    ),
    compte_rendu: str | None = typer.Option(None, "--compte-rendu", help="Référence du compte rendu"),
    type_: str = typer.Option("COPIL", "--type", help="COPIL ou CT (comité technique)"),
    prevu: bool = typer.Option(
        False, "--prevu", help="Réunion prévue (pas encore tenue), pour les calendriers"
    ),
    reunion: str | None = typer.Option(
        None, "--reunion", help="Identifiant de la réunion prévue que l'on enregistre comme tenue"
    ),
) -> None:
    """Enregistre une réunion de COPIL (ou de comité technique) : prévue, ou tenue avec ses décisions."""
    with handled():
        stage = parse_id(etape, "etape")
        held_on = parse_date(le, "date")
        meeting_ref = parse_id(reunion, "reunion") if reunion else None
        if prevu and meeting_ref is not None:
            raise DomainError(
                "Champ « reunion » : sans objet pour une réunion prévue (--prevu).", field="reunion"
            )
        cfg = process_config()
        with database() as session:
            project = find_project(session, projet)
            assert project.id is not None
            meeting = record_copil(
                session,
                cfg,
                project.id,
                stage,
                held_on,
                participants,
                decisions,
                compte_rendu,
                type_,
                planned=prevu,
                meeting_id=meeting_ref,
            )
            meeting_id, reference = meeting.id, project.reference
        state = f"prévu le {fmt(held_on)}" if prevu else "enregistré"
        out.print(f"{type_.upper()} {state} pour {reference}, étape {stage} : identifiant {meeting_id}.")


@projet_app.command("livrable")
def deliverable(
    projet: str = typer.Argument(..., help="Référence ou identifiant du projet"),
    etape: str = typer.Option(..., "--etape", help="Numéro de l'étape (voir config/etapes.toml)"),
    type_: str = typer.Option(..., "--type", help="Identifiant du livrable (config/etapes.toml)"),
    le: str = typer.Option(..., "--date", help="Date de réception (AAAA-MM-JJ)"),
    reference: str | None = typer.Option(None, "--reference", help="Référence ou emplacement du document"),
) -> None:
    """Enregistre la réception d'un livrable d'étape."""
    with handled():
        stage = parse_id(etape, "etape")
        received_on = parse_date(le, "date")
        cfg = process_config()
        with database() as session:
            project = find_project(session, projet)
            assert project.id is not None
            record = record_deliverable(session, cfg, project.id, stage, type_, received_on, reference)
            title = next(d.titre for d in cfg.stage(stage).livrables if d.id == record.kind)
            project_ref = project.reference
        out.print(f"Livrable « {title} » enregistré pour {project_ref}, étape {stage}.")
