"""``siae projet completer`` and ``siae projet historique``: the facts of stages 1 to 4 from a TOML file.

The dossier stack is imported by these commands only: the « projet » group also serves « lister ».
"""

from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from implantation.cli.common import database, fmt, handled, out, parse_id, process_config
from implantation.cli.projects import CLI_ACTOR, projet_app
from implantation.services.projects import actor_for, find_project


def _short(text: str | None, width: int = 70) -> str:
    if text is None:
        return "—"
    return text if len(text) <= width else text[: width - 1] + "…"


@projet_app.command("completer")
def complete_(
    projet: str = typer.Argument(..., help="Référence (IMP-2026-0001) ou identifiant du projet"),
    fichier: str = typer.Option(..., "--fichier", help="Dossier TOML (clés décrites dans docs/donnees.md)"),
    par: str | None = typer.Option(None, "--par", help="Identifiant de la personne qui saisit"),
) -> None:
    """Enregistre tout ou partie des faits des étapes 1 à 4 (tout ou rien ; chaque modification est journalisée)."""
    from implantation.services.dossier import complete, load_dossier

    with handled():
        path = Path(fichier)
        dossier = load_dossier(path)
        cfg = process_config()
        with database() as session:
            project = find_project(session, projet)
            actor = actor_for(session, parse_id(par, "par") if par else None, CLI_ACTOR)
            changes = complete(session, cfg, project, dossier, actor, source=path.name)
            reference = project.reference
            lines = [(c.field, c.old_value, c.new_value) for c in changes]
        if not lines:
            out.print(escape(f"Projet {reference} : aucune valeur modifiée (tout était déjà enregistré)."))
            return
        table = Table(title=escape(f"Projet {reference} : {len(lines)} valeur(s) enregistrée(s)"))
        for column in ("Clé", "Ancienne valeur", "Nouvelle valeur"):
            table.add_column(column)
        for key, old, new in lines:
            table.add_row(key, escape(_short(old)), escape(_short(new)))
        out.print(table)


@projet_app.command("historique")
def history_(projet: str = typer.Argument(..., help="Référence ou identifiant du projet")) -> None:
    """Journal des modifications des faits du projet : qui, quelle clé, ancienne et nouvelle valeur, quand."""
    from implantation.services.dossier import history

    with handled():
        with database() as session:
            project = find_project(session, projet)
            assert project.id is not None
            rows = [
                (fmt(c.at.date()), c.actor_label, c.field, c.old_value, c.new_value, c.source)
                for c in history(session, project.id)
            ]
            reference = project.reference
        if not rows:
            out.print(escape(f"Projet {reference} : aucune modification enregistrée."))
            return
        table = Table(title=escape(f"Modifications du projet {reference}"))
        for column in ("Date", "Par", "Clé", "Ancienne valeur", "Nouvelle valeur", "Source"):
            table.add_column(column)
        for day, who, key, old, new, source in rows:
            table.add_row(
                day, escape(who), key, escape(_short(old, 40)), escape(_short(new, 40)), source or "—"
            )
        out.print(table)


@projet_app.command("dossier")
def export(projet: str = typer.Argument(..., help="Référence ou identifiant du projet")) -> None:
    """Affiche les faits enregistrés au format du dossier TOML (à modifier puis « completer »)."""
    from implantation.dossier_toml import to_toml
    from implantation.services.dossier import recorded

    with handled():
        with database() as session:
            text = to_toml(recorded(session, find_project(session, projet)))
        out.print(escape(text or "# aucun fait enregistré"), soft_wrap=True)
