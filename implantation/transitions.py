"""State machines of a project and of its stages, as data.

Same shape as les-emplois' job application workflow: a table of
``(transition, from_states, to_state)`` rows. Code never assigns a status directly; it
asks :func:`apply` which checks the table and the mandatory reason.
"""

from dataclasses import dataclass
from typing import cast

from implantation.enums import LabelledEnum, ProjectStatus, StageStatus


class StageTransition(LabelledEnum):
    OPEN = "ouvrir", "Ouverture de l'étape"
    APPROVE = "approuver", "Validation de l'étape"
    REJECT = "rejeter", "Rejet (l'étape reste en cours)"
    SEND_BACK = "renvoyer", "Renvoi à une étape précédente"
    REOPEN = "rouvrir", "Réouverture de l'étape"
    CANCEL = "annuler", "Annulation (projet abandonné)"
    SUSPEND = "suspendre", "Suspension (horloge arrêtée)"
    RESUME = "reprendre", "Reprise (horloge relancée)"


class ProjectTransition(LabelledEnum):
    CREATE = "creer", "Création du projet"
    LAUNCH = "lancer", "Lancement de l'activité"
    ABANDON = "abandonner", "Abandon du projet"


@dataclass(frozen=True)
class Rule:
    transition: LabelledEnum
    from_states: frozenset[LabelledEnum | None]
    to_state: LabelledEnum
    requires_reason: bool = False


STAGE_RULES: tuple[Rule, ...] = (
    Rule(StageTransition.OPEN, frozenset({StageStatus.PENDING}), StageStatus.OPEN),
    Rule(StageTransition.APPROVE, frozenset({StageStatus.OPEN}), StageStatus.VALIDATED),
    Rule(StageTransition.REJECT, frozenset({StageStatus.OPEN}), StageStatus.OPEN, requires_reason=True),
    Rule(
        StageTransition.SEND_BACK,
        frozenset({StageStatus.OPEN, StageStatus.VALIDATED}),
        StageStatus.PENDING,
        requires_reason=True,
    ),
    Rule(StageTransition.REOPEN, frozenset({StageStatus.VALIDATED}), StageStatus.OPEN, requires_reason=True),
    Rule(
        StageTransition.CANCEL,
        frozenset({StageStatus.PENDING, StageStatus.OPEN, StageStatus.SUSPENDED}),
        StageStatus.CANCELLED,
        requires_reason=True,
    ),
    Rule(StageTransition.SUSPEND, frozenset({StageStatus.OPEN}), StageStatus.SUSPENDED, requires_reason=True),
    Rule(StageTransition.RESUME, frozenset({StageStatus.SUSPENDED}), StageStatus.OPEN),
)

PROJECT_RULES: tuple[Rule, ...] = (
    Rule(ProjectTransition.CREATE, frozenset({None}), ProjectStatus.IN_PROGRESS),
    Rule(ProjectTransition.LAUNCH, frozenset({ProjectStatus.IN_PROGRESS}), ProjectStatus.LAUNCHED),
    Rule(
        ProjectTransition.ABANDON,
        frozenset({ProjectStatus.IN_PROGRESS}),
        ProjectStatus.ABANDONED,
        requires_reason=True,
    ),
)


class TransitionError(ValueError):
    """A transition refused by the table; the message is French and shown to users."""


def _rule(rules: tuple[Rule, ...], transition: LabelledEnum) -> Rule:
    for rule in rules:
        if rule.transition == transition:
            return rule
    raise TransitionError(f"Transition inconnue : {transition}")


def apply(
    rules: tuple[Rule, ...], transition: LabelledEnum, current: LabelledEnum | None, reason: str | None = None
) -> LabelledEnum:
    """Return the new state, or raise a French :class:`TransitionError`."""
    rule = _rule(rules, transition)
    if current not in rule.from_states:
        shown = current.label if current is not None else "aucun"
        raise TransitionError(f"« {transition.label} » est impossible depuis l'état « {shown} ».")
    if rule.requires_reason and not (reason and reason.strip()):
        raise TransitionError(f"« {transition.label} » exige un motif.")
    return rule.to_state


def apply_stage(transition: StageTransition, current: StageStatus, reason: str | None = None) -> StageStatus:
    # STAGE_RULES only lead to StageStatus members.
    return cast(StageStatus, apply(STAGE_RULES, transition, current, reason))


def apply_project(
    transition: ProjectTransition, current: ProjectStatus | None, reason: str | None = None
) -> ProjectStatus:
    return cast(ProjectStatus, apply(PROJECT_RULES, transition, current, reason))
