"""The ``siae`` command line; every message is in French and no traceback reaches the user.

Start-up is kept short (a read-only command answers in well under a second): :func:`main` imports only
the module of the command group it is asked for. The other groups appear in ``--help`` from the
:data:`GROUPS` table (name and one-line help), without importing their modules, which bring the
database, document and calendar stacks. ``app`` (used by the tests) is the complete command tree.
"""

import importlib
import sys
from collections.abc import Callable, Sequence
from typing import Any

import typer

try:  # typer >= 0.2x ships its own copy of click
    from typer._click import exceptions as usage
except ImportError:  # pragma: no cover - older typer relies on click itself
    from click import exceptions as usage  # type: ignore[no-redef]

from implantation.cli import help_fr
from implantation.cli.common import err, handled, out, widen_piped_output

help_fr.install()

# name: (module, attribute, one-line help shown by « siae --help » without importing the module)
GROUPS: dict[str, tuple[str, str, str]] = {
    "importer": (
        "implantation.cli.referential",
        "importer_app",
        "Importe un fichier CSV (tout ou rien ; colonnes décrites dans docs/donnees.md).",
    ),
    "ajouter": ("implantation.cli.referential", "ajouter_app", "Ajoute un élément au référentiel."),
    "projet": (
        "implantation.cli.dossier",  # imports implantation.cli.projects, then adds « completer » to its commands
        "projet_app",
        "Projets d'implantation : création, suivi, chronologie, abandon.",
    ),
    "documents": (
        "implantation.cli.documents",
        "app",
        "Documents de l'étape 5 : DUI, convention IAE, contrat d'implantation, CEP et annexes.",
    ),
    "operateurs": (
        "implantation.cli.operateurs",
        "operateurs_app",
        "Opérateurs (personnes détenues sous CEP) : import CSV, ajout, sortie, liste.",
    ),
    "journal": (
        "implantation.cli.journal",
        "journal_app",
        "Journal infalsifiable : décisions, documents et signatures chaînés par SHA-256.",
    ),
    "montants": (
        "implantation.cli.amounts",
        "montants_app",
        "Montants réglementaires (SMIC, aide au poste, cotisations, taux AT/MP) : consulter, ajouter, vérifier.",
    ),
    "decision": (
        "implantation.cli.decision",
        "decision_app",
        "Décisions aux portes des étapes : codes personnels envoyés par courriel.",
    ),
}
COMMANDS: dict[str, tuple[str, str, str]] = {
    "tableau": (
        "implantation.cli.overview",
        "tableau",
        "Tableau national des implantations : filtres, export CSV ou xlsx.",
    ),
    "calendrier": (
        "implantation.cli.calendars",
        "calendrier",
        "Calendrier .ics d'un projet ou d'une personne : échéances et COPIL.",
    ),
    "demo-base": (
        "implantation.cli.demo",
        "demo",
        "Crée une base SQLite neuve avec les sites pilotes et un projet d'exemple, puis affiche sa chronologie.",
    ),
}
# Commands added by other packages (``flows/runtime/cli.py``: those that talk to the Prefect server).
EXTENSIONS: list[Callable[[typer.Typer], None]] = []


def init_db() -> None:
    """Crée la base de données ou la met à jour (migrations Alembic), sous verrou : une machine à la fois."""
    from implantation.cli.common import database_url
    from implantation.db.migrate import head_revision, upgrade_to_head

    with handled():
        upgrade_to_head(database_url())
        out.print(f"Base de données à jour (révision {head_revision()}).")


def _placeholder(help_text: str) -> Callable[..., None]:
    def command() -> None:  # never run: main() loads the real command when it is asked for
        raise typer.Exit(code=2)

    command.__doc__ = help_text
    return command


def build_app(wanted: str | None = None, *, everything: bool = True) -> typer.Typer:
    """The command tree; with ``everything=False`` only the ``wanted`` group or command is imported."""
    built = typer.Typer(
        name="siae",
        help="Pilotage de l'implantation d'une SIAE en établissement pénitentiaire (méthode nationale en six étapes).",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        rich_markup_mode="rich",
    )
    built.command("migrer")(init_db)
    built.command("init-db", help="Synonyme de « siae migrer ».")(init_db)
    for name, (module, attribute, help_text) in COMMANDS.items():
        if everything or name == wanted:
            built.command(name)(getattr(importlib.import_module(module), attribute))
        else:
            built.command(name)(_placeholder(help_text))
    for name, (module, attribute, help_text) in GROUPS.items():
        if everything or name == wanted:
            built.add_typer(getattr(importlib.import_module(module), attribute), name=name)
        else:
            built.add_typer(typer.Typer(help=help_text, no_args_is_help=True), name=name)
    for extend in EXTENSIONS:
        extend(built)
    return built


def __getattr__(name: str) -> Any:
    """``implantation.cli.app``: the complete tree, built when asked for (tests, documentation)."""
    if name == "app":
        return build_app()
    raise AttributeError(name)


def _hint(exc: usage.BadParameter) -> str:
    if exc.param is None:
        return str(exc.param_hint or "")
    if exc.param.param_type_name == "argument":
        return (exc.param.name or "").upper()
    return exc.param.opts[0] if exc.param.opts else (exc.param.name or "")


def _french_usage(exc: usage.ClickException) -> str:
    if isinstance(exc, usage.MissingParameter):
        return f"paramètre obligatoire manquant : « {_hint(exc)} »."
    if isinstance(exc, usage.NoSuchOption):
        return f"option inconnue : « {exc.option_name} »."
    if isinstance(exc, usage.BadParameter):
        return f"valeur invalide pour « {_hint(exc)} »."
    if isinstance(exc, usage.UsageError) and "No such command" in exc.message:
        return "commande inconnue ; voir « siae --help »."
    if isinstance(exc, usage.UsageError):
        return "utilisation incorrecte ; voir « siae --help »."
    return f"{exc.format_message()}"


def main(argv: Sequence[str] | None = None) -> None:
    """Console entry point: usage errors are answered in French as well."""
    widen_piped_output()
    args = list(argv) if argv is not None else sys.argv[1:]
    wanted = next((a for a in args if not a.startswith("-")), None)
    try:
        command = typer.main.get_command(build_app(wanted, everything=False))
        help_fr.translate_help_options(command)
        code = command(args=args, prog_name="siae", standalone_mode=False)
    except usage.NoArgsIsHelpError:
        sys.exit(0)  # the help has already been printed
    except usage.ClickException as exc:
        err.print(f"[bold red]Erreur :[/] {_french_usage(exc)}", highlight=False)
        sys.exit(2)
    except (typer.Abort, KeyboardInterrupt):
        err.print("Interrompu.")
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)
