"""Extension points of the command line, in a module light enough to import at start-up."""

from collections.abc import Callable

CLI_ACTOR = "Ligne de commande"

# Run after an abandonment is committed, with the project id and the actor's person id; each returns the
# French lines to print. ``flows/runtime/cli.py`` registers the cancellation of the project's waiting Prefect
# runs here, so that the domain never imports Prefect.
AFTER_ABANDON: list[Callable[[int, int | None], list[str]]] = []

# Run after each committed change of the referential (import, addition); each may return a line to print.
# ``flows/runtime/cli.py`` registers the refresh of the run form's lists of establishments and leads here.
REFERENTIAL_CHANGED: list[Callable[[], str | None]] = []

# The re-send of a person's decision code, a run of the ``renvoyer-code`` deployment: the key that computes
# codes lives where runs execute, not on the agent's workstation. ``flows/runtime/cli.py`` registers the
# function that starts it, given the project, the stage and the address; it returns the French outcome.
RESEND_CODE: list[Callable[[str, int, str], str]] = []
