"""The keys name runs, log rows and form answers: two different decisions must never share one."""

from itertools import product

from implantation.keys import creation_key, gate_key, stage_attempt_key


def test_every_gate_answer_has_its_own_key() -> None:
    combos = list(product([1, 11], range(1, 7), [1, 2, 12], [1, 2, 21]))
    keys = {gate_key(*combo) for combo in combos}
    assert len(keys) == len(combos)


def test_a_gate_key_extends_its_stage_attempt_and_differs_from_every_stage_key() -> None:
    stage_keys = {stage_attempt_key(p, e, t) for p, e, t in product([1, 11], range(1, 7), [1, 2])}
    for projet_id, etape, tentative in product([1, 11], range(1, 7), [1, 2]):
        key = gate_key(projet_id, etape, tentative, 1)
        assert key.startswith(stage_attempt_key(projet_id, etape, tentative) + "-")
        assert key not in stage_keys
    assert creation_key(1) not in stage_keys and creation_key(1) != creation_key(11)


def test_stable_spelling() -> None:
    """Stored log rows and Prefect run names already use it: changing it would orphan them."""
    assert stage_attempt_key(3, 5, 2) == "projet-3-etape-5-tentative-2"
    assert gate_key(3, 5, 2, 4) == "projet-3-etape-5-tentative-2-saisie-4"
    assert creation_key(3) == "projet-3-creation"
