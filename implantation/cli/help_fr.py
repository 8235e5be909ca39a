"""French words in the help pages that Typer draws (``siae --help``).

Typer keeps its panel titles and markers as module constants of ``typer.rich_utils``, read each time a
help page is drawn; setting them is enough. The ``--help`` option is made by click once per command
and kept: its sentence is set on the built command tree. The usage line (« Usage: [OPTIONS] ») is
written inside click and stays in English.
"""

from typing import Any

from typer import rich_utils

FRENCH = {
    "ARGUMENTS_PANEL_TITLE": "Arguments",
    "OPTIONS_PANEL_TITLE": "Options",
    "COMMANDS_PANEL_TITLE": "Commandes",
    "ERRORS_PANEL_TITLE": "Erreur",
    "REQUIRED_LONG_STRING": "[obligatoire]",
    "DEFAULT_STRING": "[défaut : {}]",
    "ENVVAR_STRING": "[variable d'environnement : {}]",
    "DEPRECATED_STRING": "(obsolète) ",
    "ABORTED_TEXT": "Interrompu.",
    "RICH_HELP": "Essayez [blue]« {command_path} {help_option} »[/] pour l'aide.",
}


def install() -> None:
    for name, text in FRENCH.items():
        if hasattr(rich_utils, name):
            setattr(rich_utils, name, text)


HELP_OPTION = "Affiche cette aide et quitte."


def translate_help_options(command: Any) -> None:
    """Every command of the tree built from the Typer app gets the French sentence for ``--help``."""
    option = command.get_help_option(command.context_class(command))
    if option is not None:
        option.help = HELP_OPTION
    for sub in getattr(command, "commands", {}).values():
        translate_help_options(sub)
