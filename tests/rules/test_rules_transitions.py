"""Every row of the stage and project state machines, and every refusal."""

import itertools

import pytest

from implantation.enums import ProjectStatus, StageStatus
from implantation.transitions import (
    PROJECT_RULES,
    STAGE_RULES,
    ProjectTransition,
    StageTransition,
    TransitionError,
    apply_project,
    apply_stage,
)

S, T = StageStatus, StageTransition
P, PT = ProjectStatus, ProjectTransition

# (transition, from, to, reason required): written out independently of the table under test.
STAGE_TABLE = [
    (T.OPEN, S.PENDING, S.OPEN, False),
    (T.APPROVE, S.OPEN, S.VALIDATED, False),
    (T.REJECT, S.OPEN, S.OPEN, True),
    (T.SEND_BACK, S.OPEN, S.PENDING, True),
    (T.SEND_BACK, S.VALIDATED, S.PENDING, True),
    (T.REOPEN, S.VALIDATED, S.OPEN, True),
    (T.CANCEL, S.PENDING, S.CANCELLED, True),
    (T.CANCEL, S.OPEN, S.CANCELLED, True),
    (T.CANCEL, S.SUSPENDED, S.CANCELLED, True),
    (T.SUSPEND, S.OPEN, S.SUSPENDED, True),
    (T.RESUME, S.SUSPENDED, S.OPEN, False),
]
PROJECT_TABLE = [
    (PT.CREATE, None, P.IN_PROGRESS, False),
    (PT.LAUNCH, P.IN_PROGRESS, P.LAUNCHED, False),
    (PT.ABANDON, P.IN_PROGRESS, P.ABANDONED, True),
]


def test_tables_cover_every_transition_once() -> None:
    assert [rule.transition for rule in STAGE_RULES] == list(StageTransition)
    assert [rule.transition for rule in PROJECT_RULES] == list(ProjectTransition)


@pytest.mark.parametrize(("transition", "current", "target", "needs_reason"), STAGE_TABLE)
def test_stage_rows(transition: T, current: S, target: S, needs_reason: bool) -> None:
    result = apply_stage(transition, current, "motif détaillé")
    assert result is target
    assert isinstance(result, StageStatus)
    if needs_reason:
        for empty in (None, "", "   "):
            with pytest.raises(TransitionError) as caught:
                apply_stage(transition, current, empty)
            assert str(caught.value) == f"« {transition.label} » exige un motif."
    else:
        assert apply_stage(transition, current) is target


@pytest.mark.parametrize(("transition", "current", "target", "needs_reason"), PROJECT_TABLE)
def test_project_rows(transition: PT, current: P | None, target: P, needs_reason: bool) -> None:
    result = apply_project(transition, current, "motif détaillé")
    assert result is target
    assert isinstance(result, ProjectStatus)
    if needs_reason:
        for empty in (None, "", " \n"):
            with pytest.raises(TransitionError) as caught:
                apply_project(transition, current, empty)
            assert str(caught.value) == f"« {transition.label} » exige un motif."
    else:
        assert apply_project(transition, current) is target


ALLOWED_STAGE = {(t, c) for t, c, _, _ in STAGE_TABLE}
REFUSED_STAGE = [
    (t, c) for t, c in itertools.product(StageTransition, StageStatus) if (t, c) not in ALLOWED_STAGE
]


def test_refused_stage_pairs_are_many() -> None:
    assert len(REFUSED_STAGE) == len(StageTransition) * len(StageStatus) - len(STAGE_TABLE) == 29


@pytest.mark.parametrize(("transition", "current"), REFUSED_STAGE)
def test_invalid_stage_transitions_are_refused_in_french(transition: T, current: S) -> None:
    with pytest.raises(TransitionError) as caught:
        apply_stage(transition, current, "motif détaillé")
    assert str(caught.value) == f"« {transition.label} » est impossible depuis l'état « {current.label} »."


def test_invalid_stage_message_example() -> None:
    with pytest.raises(
        TransitionError, match=r"^« Validation de l'étape » est impossible depuis l'état « Validée ».$"
    ):
        apply_stage(T.APPROVE, S.VALIDATED)


def test_a_cancelled_stage_is_final() -> None:
    for transition in StageTransition:
        with pytest.raises(TransitionError):
            apply_stage(transition, S.CANCELLED, "motif")


ALLOWED_PROJECT = {(t, c) for t, c, _, _ in PROJECT_TABLE}
REFUSED_PROJECT = [
    (t, c)
    for t, c in itertools.product(ProjectTransition, [None, *ProjectStatus])
    if (t, c) not in ALLOWED_PROJECT
]


@pytest.mark.parametrize(("transition", "current"), REFUSED_PROJECT)
def test_invalid_project_transitions_are_refused_in_french(transition: PT, current: P | None) -> None:
    shown = current.label if current is not None else "aucun"
    with pytest.raises(TransitionError) as caught:
        apply_project(transition, current, "motif détaillé")
    assert str(caught.value) == f"« {transition.label} » est impossible depuis l'état « {shown} »."


def test_launch_without_project_says_no_state() -> None:
    with pytest.raises(
        TransitionError, match=r"^« Lancement de l'activité » est impossible depuis l'état « aucun ».$"
    ):
        apply_project(PT.LAUNCH, None)


def test_the_state_is_checked_before_the_reason() -> None:
    with pytest.raises(TransitionError, match="impossible depuis l'état « Abandonné »"):
        apply_project(PT.ABANDON, P.ABANDONED, None)


def test_a_transition_of_the_other_table_is_unknown() -> None:
    with pytest.raises(TransitionError, match=r"^Transition inconnue : lancer$"):
        apply_stage(PT.LAUNCH, S.OPEN)  # type: ignore[arg-type]


def test_transition_error_is_a_value_error() -> None:
    assert issubclass(TransitionError, ValueError)
