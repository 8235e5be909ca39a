"""A gate's question: suspended the first time, answered from the stored answer on a replay."""

import time
from collections import Counter
from typing import Any

import pytest
from prefect import flow
from prefect.input import create_flow_run_input, keyset_from_paused_state
from prefect.settings import PREFECT_API_URL, temporary_settings
from prefect.states import Suspended
from sqlmodel import select

from flows.gates import GateInput, SourcingGateInput, answered, ask, form_for
from flows.harness.scenario import gate
from implantation.db.models import FactChange
from implantation.db.session import session_scope
from tests.flow_stack import FlowStack

pytestmark = pytest.mark.prefect

SUSPENDING = "Suspending flow run"  # what Prefect's suspend logs each time it is called


@flow(name="essai-question-repondue", persist_result=False)
def ask_answered(key: str, given: dict[str, Any]) -> dict[str, Any]:
    """Stores an answer where the resume API stores it, then asks."""
    assert answered(form_for(6), key) is None
    create_flow_run_input(keyset_from_paused_state(Suspended(pause_key=key))["response"], given)
    answer = answered(form_for(6), key)
    assert answer is not None
    return answer.model_dump(mode="json")


@flow(name="essai-question-sans-reponse", persist_result=False)
def ask_unanswered(key: str) -> str:
    try:
        ask(GateInput, key)
    except RuntimeError as exc:  # a run with no deployment cannot be suspended: the ask reached Prefect
        return str(exc)
    return "aucune erreur"


@pytest.mark.parametrize(("form", "name"), [(GateInput, "motif"), (SourcingGateInput, "activite")])
def test_free_text_is_a_plain_box_in_the_resume_form(form: type[GateInput], name: str) -> None:
    """An optional value would show as a « str / None » switch to flip before typing a rejection's reason."""
    field = form.with_initial_data(description="contexte").model_json_schema()["properties"][name]
    assert field["type"] == "string" and field["default"] == "" and "anyOf" not in field


def test_an_answer_stored_with_null_text_still_replays() -> None:
    answer = SourcingGateInput(approbateur="a@b.fr", code=None, decision="rejeter", motif=None, activite=None)
    assert (answer.motif, answer.activite) == ("", "")


def test_a_stored_answer_is_returned_as_the_form(flow_stack: FlowStack) -> None:
    given = gate("dreets38@example.org", date_lancement="2027-03-01", locaux_amenages=True)
    with temporary_settings({PREFECT_API_URL: flow_stack.stack.api_url}):
        answer = ask_answered("essai-1", given)
    assert answer["approbateur"] == "dreets38@example.org" and answer["decision"] == "approuver"
    assert answer["date_lancement"] == "2027-03-01" and answer["locaux_amenages"] is True


def test_without_an_answer_the_run_is_suspended(flow_stack: FlowStack) -> None:
    with temporary_settings({PREFECT_API_URL: flow_stack.stack.api_url}):
        message = ask_unanswered("essai-2")
    assert "cannot be suspended" in message


def test_a_resumed_stage_does_not_suspend_again(flow_stack: FlowStack) -> None:
    """On a real resume the replay takes the stored answer: Prefect's suspend ran once for the one ask."""
    driver = flow_stack.driver()
    projet_id = driver.start()
    run, _ = driver.wait_gate(projet_id, 1)
    driver.stage_work(projet_id, 1)  # what the approval requires
    driver.answer(projet_id, 1, gate(driver.email("cheffe.projet.disp")), "approbation")
    flow_stack.api.wait_state(run, {"COMPLETED"})
    deadline = time.monotonic() + 30  # logs reach the server in batches
    while time.monotonic() < deadline:
        messages = [log["message"] for log in flow_stack.api.logs([run])]
        if any("Finished in state Completed" in m for m in messages):
            break
        time.sleep(0.5)
    assert sum(SUSPENDING in m for m in messages) == 1
    # The steps before the answered ask ran once, before the run suspended: the replay skips them, and
    # only replays from its cache what the decision needs (the stage read, the facts shown).
    runs = _task_runs_settled(
        flow_stack,
        run,
        {("lire-etape", "Cached"), ("faits-de-la-porte", "Cached"), ("notifier-decision", "Completed")},
    )
    assert sorted(name for name, state in runs if state == "Cached") == ["faits-de-la-porte", "lire-etape"]
    ran = Counter(name for name, state in runs if state == "Completed")
    assert {n: ran[n] for n in ("notifier-ouverture", "demander-decision")} == {
        "notifier-ouverture": 1,
        "demander-decision": 1,
    }


def _task_runs_settled(
    fs: FlowStack, run: str, needed: set[tuple[str, str]], timeout: float = 60
) -> list[tuple[str, str]]:
    """(task name, state name) of the run's task runs, once every ``needed`` pair is recorded and every
    state is final: Prefect records task runs from events, asynchronously and in no set order."""
    deadline = time.monotonic() + timeout
    while True:
        found = fs.api.task_runs(run)
        runs = [(r["name"].rsplit("-", 1)[0], (r["state"] or {}).get("name", "")) for r in found]
        final = all(r["state"] and r["state"]["type"] in {"COMPLETED", "FAILED", "CRASHED"} for r in found)
        if final and needed <= set(runs):
            return runs
        assert time.monotonic() < deadline, f"tâches enregistrées après {timeout:.0f} s : {runs}"
        time.sleep(0.3)


@pytest.mark.parametrize(
    "flow_stack", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
def test_a_refused_fact_is_re_asked_with_its_reason_and_what_was_typed(flow_stack: FlowStack) -> None:
    """Stage 1's form: a line break in the premises is refused naming the field; the re-asked form tells
    why and shows the typed value again; the corrected answer saves it, logged with the approver."""
    fs = flow_stack
    driver = fs.driver()
    projet_id = driver.start()
    driver.stage_work(projet_id, 1)
    lead = driver.email("cheffe.projet.disp")
    run, first = driver.wait_gate(projet_id, 1)
    schema = fs.api.gate_input(run, first, "schema")
    assert schema["properties"]["locaux"]["title"] == "Locaux mis à disposition (atelier, bureaux)"
    refused = driver.answer(projet_id, 1, gate(lead, locaux="Atelier\nde 300 m²"), "locaux sur deux lignes")
    assert refused.outcome.startswith(
        "refusé : champ « Locaux mis à disposition (atelier, bureaux) » : caractère de contrôle ou saut de ligne"
    )
    second = fs.api.wait_paused(run, str(first["pause_key"]))
    assert "champ « Locaux mis à disposition" in str(fs.api.gate_input(run, second, "description"))
    again = fs.api.gate_input(run, second, "schema")
    assert again["properties"]["locaux"]["default"] == "Atelier\nde 300 m²"
    accepted = driver.answer(projet_id, 1, gate(lead, locaux="Atelier de 300 m²"), "locaux corrigés")
    assert accepted.outcome == "enregistré (approuver)"
    with session_scope(fs.engine) as session:
        change = session.exec(select(FactChange).where(FactChange.project_id == projet_id)).one()
        assert (change.field, change.new_value) == ("locaux", "Atelier de 300 m²")
        assert change.source == f"formulaire de l'étape 1 ({lead})"
