"""``siae decision …``: what the pilot does for the people who decide at a gate (re-send their code)."""

import typer

from implantation.cli.common import fail, handled, out
from implantation.cli.hooks import RESEND_CODE

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
    """Fait envoyer à une personne habilitée son code pour la décision en attente (par le serveur
    Prefect : déploiement « renvoyer-code ») ; l'envoi est journalisé."""
    with handled():
        if not RESEND_CODE:
            fail("renvoi de code indisponible : cette commande siae n'a pas accès au serveur Prefect.")
        out.print(RESEND_CODE[0](projet, etape, personne))
