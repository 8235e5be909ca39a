"""French words in the help pages that Typer draws (``siae --help``).

Typer keeps its panel titles and markers as module constants of ``typer.rich_utils``, read each time a
help page is drawn; setting them is enough. The ``--help`` option is made by click once per command
and kept: its sentence is set on the built command tree. The usage line (« Usage: [OPTIONS] ») is
written inside click and stays in English.

Typer imports ``rich_utils`` (and with it rich's markdown stack, a third of a second) only when it draws
a help page or an error; the French words are set at that moment, so a command that succeeds never pays
for them.
"""

import importlib.abc
import importlib.machinery
import importlib.util
import sys
from types import ModuleType
from typing import Any

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


def _translate(rich_utils: ModuleType) -> None:
    for name, text in FRENCH.items():
        if hasattr(rich_utils, name):
            setattr(rich_utils, name, text)


class _TranslatingLoader(importlib.abc.Loader):
    def __init__(self, loader: importlib.abc.Loader) -> None:
        self.loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self.loader.exec_module(module)
        _translate(module)


class _OnImport(importlib.abc.MetaPathFinder):
    def find_spec(self, name: str, path: Any, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        if name != "typer.rich_utils":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.loader is not None:
            spec.loader = _TranslatingLoader(spec.loader)
        return spec


def install() -> None:
    if "typer.rich_utils" in sys.modules:
        _translate(sys.modules["typer.rich_utils"])
    elif not any(isinstance(finder, _OnImport) for finder in sys.meta_path):
        sys.meta_path.insert(0, _OnImport())


HELP_OPTION = "Affiche cette aide et quitte."


def translate_help_options(command: Any) -> None:
    """Every command of the tree built from the Typer app gets the French sentence for ``--help``."""
    option = command.get_help_option(command.context_class(command))
    if option is not None:
        option.help = HELP_OPTION
    for sub in getattr(command, "commands", {}).values():
        translate_help_options(sub)
