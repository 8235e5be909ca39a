"""The names that tie one stage attempt and one gate answer across the run name in Prefect, the
idempotency keys of the transition log and the resume form's key.

They are spelt once here: the flows, the tasks, the API client used by the demo and the tests, and the
benchmark all look runs and decisions up by them.
"""


def creation_key(projet_id: int) -> str:
    return f"projet-{projet_id}-creation"


def stage_key(projet_id: int, etape: int) -> str:
    """The prefix of every key of one stage's gate, whatever its attempt."""
    return f"projet-{projet_id}-etape-{etape}"


def stage_attempt_key(projet_id: int, etape: int, tentative: int) -> str:
    """A send-back reopens a stage with a new attempt, hence a new run and new keys."""
    return f"{stage_key(projet_id, etape)}-tentative-{tentative}"


def gate_key(projet_id: int, etape: int, tentative: int, saisie: int) -> str:
    """A refused answer is re-asked under the next ``saisie``: Prefect returns an answered key at once."""
    return f"{stage_attempt_key(projet_id, etape, tentative)}-saisie-{saisie}"
