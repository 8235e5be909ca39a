"""The runner starts runs when the server announces them, not at its next poll."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from prefect.events.schemas.events import Event

from flows.harness.scenario import gate
from flows.runtime.wakeup import WAKE_EVENTS, announced_run, wake_filter
from tests.flow_stack import FlowStack

SINCE = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def _event(name: str, resource: str, occurred: datetime = SINCE + timedelta(seconds=1)) -> Event:
    return Event(occurred=occurred, event=name, resource={"prefect.resource.id": resource}, id=uuid4())


def test_an_announced_run_is_the_event_resource() -> None:
    run = uuid4()
    assert announced_run(_event("prefect.flow-run.Scheduled", f"prefect.flow-run.{run}"), SINCE) == run
    assert announced_run(_event("prefect.flow-run.Resuming", f"prefect.flow-run.{run}"), SINCE) == run


def test_replayed_and_other_events_announce_nothing() -> None:
    run = f"prefect.flow-run.{uuid4()}"
    replayed = _event("prefect.flow-run.Scheduled", run, occurred=SINCE - timedelta(seconds=30))
    assert announced_run(replayed, SINCE) is None
    assert announced_run(_event("prefect.flow-run.Running", run), SINCE) is None
    assert announced_run(_event("prefect.flow-run.Scheduled", f"prefect.deployment.{uuid4()}"), SINCE) is None


def test_the_filter_names_the_two_events_and_the_deployments() -> None:
    deployments = [uuid4(), uuid4()]
    shown = wake_filter(deployments).model_dump(mode="json")
    assert sorted(shown["event"]["name"]) == sorted(WAKE_EVENTS)
    assert shown["related"]["id"] == [f"prefect.deployment.{d}" for d in deployments]


@pytest.fixture
def runner_that_never_polls(flow_stack: FlowStack) -> Iterator[FlowStack]:
    """The runner restarted with an hour between polls: after its first poll at start, only the
    announcements can start a run. The usual runner is back afterwards."""
    env = flow_stack.stack.env
    before = env.get("SIAE_RUNNER_POLL_SECONDS")
    env["SIAE_RUNNER_POLL_SECONDS"] = "3600"
    try:
        flow_stack.stack.restart_runner(schedules=False)
        yield flow_stack
    finally:
        if before is None:
            env.pop("SIAE_RUNNER_POLL_SECONDS", None)
        else:
            env["SIAE_RUNNER_POLL_SECONDS"] = before
        flow_stack.stack.restart_runner(schedules=False)


@pytest.mark.prefect
def test_new_and_resumed_runs_start_without_a_poll(runner_that_never_polls: FlowStack) -> None:
    fs = runner_that_never_polls
    driver = fs.driver()
    projet_id = driver.start()  # a run created on the start deployment, then stage 1's run
    driver.stage_work(projet_id, 1)  # what the approval requires
    answer = driver.answer(projet_id, 1, gate(driver.email("cheffe.projet.disp")), "approbation")
    assert answer.status == "ACCEPT" and answer.outcome.startswith("enregistré")  # the resumed run ran
    stage2 = fs.api.stage_run(projet_id, 2)
    assert fs.api.wait_state(stage2, {"PAUSED"}, timeout=120) == "PAUSED"  # created by the resumed run
    names = [state["name"] for state in fs.api.get(f"/flow_run_states/?flow_run_id={stage2}")]
    assert names[:2] == ["Scheduled", "Pending"] and "Running" in names
