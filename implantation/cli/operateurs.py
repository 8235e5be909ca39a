"""``siae operateurs …``: the detainee workers of a project, outside Prefect (identities stay in the database)."""

from datetime import date
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from implantation import dates
from implantation.cli.common import database, fmt, handled, out, parse_id, process_config
from implantation.cli.projects import CLI_ACTOR
from implantation.enums import OperateurEndReason
from implantation.services.errors import DomainError
from implantation.services.operateurs import add_operateur, import_operateurs, operateurs_of, retire_operateur
from implantation.services.projects import actor_for, find_project, parse_date

operateurs_app = typer.Typer(
    help="Opérateurs (personnes détenues sous CEP) : import CSV, ajout, sortie, liste.", no_args_is_help=True
)


def _today() -> date:
    return dates.today()


def _par(raw: str | None) -> int | None:
    return parse_id(raw, "par") if raw else None


@operateurs_app.command("importer")
def import_(
    projet: str = typer.Argument(..., help="Référence ou identifiant du projet"),
    fichier: str = typer.Argument(..., help="Fichier CSV (colonnes décrites dans docs/donnees.md)"),
    par: str | None = typer.Option(None, "--par", help="Identifiant de la personne qui saisit"),
) -> None:
    """Importe des opérateurs d'un fichier CSV (tout ou rien, erreurs avec leur numéro de ligne)."""
    with handled():
        cfg = process_config()
        with database() as session:
            project = find_project(session, projet)
            actor = actor_for(session, _par(par), CLI_ACTOR)
            ops = import_operateurs(session, cfg, project, Path(fichier), actor, _today())
            lines = [f"{op.id} ({op.status.label}, {op.post_title})" for op in ops]
            reference = project.reference
        out.print(escape(f"{len(lines)} opérateur(s) enregistré(s) pour le projet {reference} :"))
        for line in lines:
            out.print(escape(f"  • {line}"))


@operateurs_app.command("ajouter")
def add(
    projet: str = typer.Argument(..., help="Référence ou identifiant du projet"),
    nom: str = typer.Option(..., "--nom", help="Nom de famille"),
    prenom: str = typer.Option(..., "--prenom", help="Prénom"),
    ecrou: str = typer.Option(..., "--ecrou", help="Numéro d'écrou"),
    naissance: str = typer.Option(..., "--naissance", help="Date de naissance (AAAA-MM-JJ)"),
    statut: str = typer.Option(..., "--statut", help="Statut juridique : condamne ou prevenu"),
    quantum: str = typer.Option(..., "--quantum", help="Quantum de peine (mois)"),
    poste: str = typer.Option(..., "--poste", help="Intitulé d'un poste du dossier (clé postes)"),
    accord_conjoint: str = typer.Option("non", "--accord-conjoint", help="oui ou non"),
    heures: str = typer.Option("", "--heures", help="Durée hebdomadaire ; celle du poste par défaut"),
    debut: str = typer.Option("", "--debut", help="Début du CEP (AAAA-MM-JJ) ; vide : pas encore affecté"),
    classement: str = typer.Option("", "--classement", help="Date de la décision de classement au travail"),
    affectation: str = typer.Option(
        "", "--affectation", help="Date de la décision d'affectation sur le poste"
    ),
    autorise_travail: str = typer.Option("oui", "--autorise-travail", help="oui ou non"),
    volontaire: str = typer.Option("oui", "--volontaire", help="oui ou non"),
    par: str | None = typer.Option(None, "--par", help="Identifiant de la personne qui saisit"),
) -> None:
    """Ajoute un opérateur (règles d'éligibilité de config/eligibilite.toml appliquées)."""
    raw = {
        "nom": nom,
        "prenom": prenom,
        "ecrou": ecrou,
        "date_naissance": naissance,
        "statut_juridique": statut,
        "quantum_mois": quantum,
        "accord_conjoint": accord_conjoint,
        "poste": poste,
        "heures_hebdomadaires": heures,
        "debut_contrat": debut,
        "date_classement": classement,
        "date_affectation": affectation,
        "autorise_travail": autorise_travail,
        "volontaire": volontaire,
    }
    with handled():
        cfg = process_config()
        with database() as session:
            project = find_project(session, projet)
            actor = actor_for(session, _par(par), CLI_ACTOR)
            op = add_operateur(session, cfg, project, raw, actor, _today())
            line = f"Opérateur enregistré : {op.id} ({op.status.label}) pour le projet {project.reference}."
        out.print(escape(line))


@operateurs_app.command("retirer")
def retire(
    projet: str = typer.Argument(..., help="Référence ou identifiant du projet"),
    operateur: str = typer.Argument(..., help="Identifiant OP-… ou numéro d'écrou"),
    motif: str = typer.Option(..., "--motif", help="liberation ou demission"),
    le: str | None = typer.Option(None, "--date", help="Date de fin du CEP (aujourd'hui par défaut)"),
    par: str | None = typer.Option(None, "--par", help="Identifiant de la personne qui saisit"),
) -> None:
    """Marque la fin du CEP d'un opérateur (libération ou démission) ; la fiche est conservée."""
    with handled():
        try:
            reason = OperateurEndReason.from_user(motif)
        except ValueError:
            allowed = ", ".join(r.value for r in OperateurEndReason)
            raise DomainError(
                f"Champ « motif » : « {motif[:40]} » inconnu ({allowed}).", field="motif"
            ) from None
        ended_on = parse_date(le, "date") if le else _today()
        with database() as session:
            project = find_project(session, projet)
            actor = actor_for(session, _par(par), CLI_ACTOR)
            op = retire_operateur(session, project, operateur, reason, ended_on, actor, _today())  # type: ignore[arg-type]
            line = f"Opérateur {op.id} sorti le {fmt(op.ended_on)} ({reason.label}) ; sa fiche est conservée."
        out.print(escape(line))


@operateurs_app.command("lister")
def list_(projet: str = typer.Argument(..., help="Référence ou identifiant du projet")) -> None:
    """Liste les opérateurs d'un projet (identité visible ici seulement, jamais dans Prefect)."""
    with handled():
        with database() as session:
            project = find_project(session, projet)
            assert project.id is not None
            rows = [
                (
                    op.id,
                    f"{identity.last_name} {identity.first_name}" if identity else "—",
                    identity.ecrou_number if identity else "—",
                    op.status.label,
                    op.post_title or "—",
                    fmt(op.contract_start),
                    f"{fmt(op.ended_on)} ({op.end_reason.label})" if op.end_reason else "—",
                )
                for op, identity in operateurs_of(session, project.id)
            ]
            reference = project.reference
        if not rows:
            out.print(escape(f"Aucun opérateur pour le projet {reference}."))
            return
        table = Table(title=escape(f"Opérateurs du projet {reference}"))
        for column in ("Identifiant", "Nom", "Écrou", "Statut", "Poste", "Début du CEP", "Fin"):
            table.add_column(column)
        for row in rows:
            table.add_row(*(escape(v) for v in row))
        out.print(table)
