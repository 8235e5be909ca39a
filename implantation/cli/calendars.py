"""``siae calendrier``: a project's (or a person's) due dates and COPILs as an iCalendar file."""

import sys
from datetime import date
from pathlib import Path

import typer
from rich.markup import escape

from implantation import dates
from implantation.cli.common import database, handled, out, process_config
from implantation.services.errors import DomainError
from implantation.services.projects import find_project


def _today() -> date:
    return dates.today()


def calendrier(
    projet: str | None = typer.Argument(None, help="Référence (IMP-2026-0001) ou identifiant du projet"),
    personne: str | None = typer.Option(
        None, "--personne", help="Adresse électronique : les projets où la personne pilote ou participe"
    ),
    sortie: str | None = typer.Option(None, "--sortie", help="Fichier .ics à écrire (sortie standard sinon)"),
) -> None:
    """Calendrier (.ics) des échéances d'étapes et des COPIL, prévus ou tenus ; importable dans un agenda."""
    from implantation.services.ics import person_calendar, project_calendar

    with handled():
        if (projet is None) == (personne is None):
            raise DomainError(
                "Champ « projet » : indiquer un projet, ou bien --personne ADRESSE (l'un ou l'autre).",
                field="projet",
            )
        cfg = process_config()
        with database() as session:
            if projet is not None:
                project = find_project(session, projet)
                content, what = (
                    project_calendar(session, cfg, project, _today()),
                    f"projet {project.reference}",
                )
            else:
                assert personne is not None
                content, count = person_calendar(session, cfg, personne, _today())
                what = f"{count} projet(s) de {personne.strip()}"
        if sortie is None:
            sys.stdout.buffer.write(content)
            sys.stdout.flush()
            return
        path = Path(sortie)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        events = content.count(b"BEGIN:VEVENT")
        out.print(escape(f"Calendrier écrit ({what}, {events} événement(s)) : {path}"))
