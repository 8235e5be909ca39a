"""``siae demo-base``: a fresh SQLite database with the pilot sites and one project, then its timeline.

The start date is chosen so that the first due date falls on 1 January and visibly moves to the
next worked day; the timeline also shows stages whose projected due dates fall on a Sunday.
"""

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from sqlmodel import select

from implantation import dates
from implantation.cli.common import fmt, handled, out, process_config, settings
from implantation.cli.projects import timeline_table
from implantation.db.migrate import upgrade_to_head
from implantation.db.models import Establishment, Person
from implantation.db.session import make_engine, session_scope
from implantation.enums import Role
from implantation.services import workflow
from implantation.services.projects import parse_date
from implantation.services.referential import ESTABLISHMENTS, PERSONS, SIAES, import_csv

DEMO_ESTABLISHMENT = "CP-GRENOBLE-VARCES"
DEMO_START = "2026-10-01"


def samples_dir() -> Path:
    return settings().config_dir / "echantillons"


def demo(
    repertoire: Annotated[
        Path | None,
        typer.Option(
            "--repertoire", help="Répertoire de la base de démonstration (par défaut : data/demo-base)"
        ),
    ] = None,
    debut: str = typer.Option(DEMO_START, "--debut", help="Date de début du projet d'exemple"),
) -> None:
    """Crée une base SQLite neuve avec les sites pilotes et un projet d'exemple, puis affiche sa chronologie."""
    with handled():
        started_on = parse_date(debut, "debut")
        cfg = process_config()
        folder = repertoire or settings().data_dir / "demo-base"
        folder.mkdir(parents=True, exist_ok=True)
        db_file = folder / "demo.db"
        for stale in (db_file, folder / "demo.db-wal", folder / "demo.db-shm"):
            stale.unlink(missing_ok=True)
        url = f"sqlite:///{db_file}"
        upgrade_to_head(url)
        engine = make_engine(url)
        try:
            with session_scope(engine) as session:
                counts = [
                    len(import_csv(session, cfg, kind, samples_dir() / name))
                    for kind, name in (
                        (ESTABLISHMENTS, "etablissements.csv"),
                        (SIAES, "siae.csv"),
                        (PERSONS, "personnes.csv"),
                    )
                ]
                establishment = session.exec(
                    select(Establishment).where(Establishment.code == DEMO_ESTABLISHMENT)
                ).one()
                lead = session.exec(
                    select(Person).where(Person.role == Role.DISP, Person.territory == "LYON")
                ).first()
                assert establishment.id is not None and lead is not None and lead.id is not None
                project = workflow.create_project(
                    session, cfg, establishment.id, lead.id, started_on, workflow.Actor.of(lead)
                )
                table = timeline_table(session, cfg, project, dates.today())
        finally:
            engine.dispose()
        out.print(escape(f"Base de démonstration : {db_file}"))
        out.print(
            f"Référentiel importé depuis config/echantillons : {counts[0]} établissements, "
            f"{counts[1]} SIAE, {counts[2]} contacts (SIRET et contacts fictifs)."
        )
        out.print(f"Projet d'exemple créé le {fmt(started_on)} pour le {escape(establishment.name)}.")
        out.print(table)
        out.print(
            "Les échéances tombant un jour férié ou un week-end sont reportées au jour ouvré suivant "
            "(calendrier du département de l'établissement) ; « prévision » : étape pas encore ouverte."
        )
