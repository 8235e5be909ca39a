"""The ``siae`` command line; every message is in French and no traceback reaches the user."""

import sys
from collections.abc import Sequence

import typer

try:  # typer >= 0.2x ships its own copy of click
    from typer._click import exceptions as usage
except ImportError:  # pragma: no cover - older typer relies on click itself
    from click import exceptions as usage  # type: ignore[no-redef]

from implantation.cli import dossier as _dossier  # noqa: F401  (adds « projet completer »)
from implantation.cli import help_fr
from implantation.cli.common import err, handled, out, widen_piped_output
from implantation.cli.demo import demo
from implantation.cli.documents import app as documents_app
from implantation.cli.operateurs import operateurs_app
from implantation.cli.projects import projet_app
from implantation.cli.referential import ajouter_app, importer_app

help_fr.install()

app = typer.Typer(
    name="siae",
    help="Pilotage de l'implantation d'une SIAE en établissement pénitentiaire (méthode nationale en six étapes).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


@app.command("init-db")
def init_db() -> None:
    """Crée la base de données ou la met à jour (migrations Alembic)."""
    from implantation.cli.common import database_url
    from implantation.db.migrate import head_revision, upgrade_to_head

    with handled():
        upgrade_to_head(database_url())
        out.print(f"Base de données à jour (révision {head_revision()}).")


app.command("demo-base")(demo)
app.add_typer(importer_app, name="importer")
app.add_typer(ajouter_app, name="ajouter")
app.add_typer(projet_app, name="projet")
app.add_typer(documents_app, name="documents")
app.add_typer(operateurs_app, name="operateurs")


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
    try:
        command = typer.main.get_command(app)
        help_fr.translate_help_options(command)
        code = command(args=list(argv) if argv is not None else None, prog_name="siae", standalone_mode=False)
    except usage.NoArgsIsHelpError:
        sys.exit(0)  # the help has already been printed
    except usage.ClickException as exc:
        err.print(f"[bold red]Erreur :[/] {_french_usage(exc)}", highlight=False)
        sys.exit(2)
    except (typer.Abort, KeyboardInterrupt):
        err.print("Interrompu.")
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)
