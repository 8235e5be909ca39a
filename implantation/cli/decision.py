"""``siae decision …``: what the pilot does for the people who decide at a gate (re-send their code)."""

import typer

from implantation.cli.common import database, handled, out, process_config, settings
from implantation.notifications.codes import resend_code
from implantation.services.projects import find_project

decision_app = typer.Typer(
    name="decision",
    help="Décisions aux portes des étapes : codes personnels envoyés par courriel.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@decision_app.command("renvoyer-code")
def renvoyer_code(
    projet: str = typer.Argument(..., help="Référence (ex. IMP-2026-0001) ou identifiant du projet"),
    etape: int = typer.Option(..., "--etape", min=1, max=6, help="Étape dont la décision est attendue"),
    personne: str = typer.Option(..., "--personne", help="Adresse électronique d'une personne habilitée"),
) -> None:
    """Envoie à une personne habilitée son code pour la décision en attente ; l'envoi est journalisé."""
    with handled():
        with database() as session:
            project = find_project(session, projet)
            person = resend_code(session, settings(), process_config(), project, etape, personne)
            done = f"Code de l'étape {etape} du projet {project.reference} renvoyé à {person.full_name} ({person.email})"
        out.print(f"{done} ; l'envoi est inscrit au journal.")
