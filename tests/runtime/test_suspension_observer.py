"""The suspension observer started beside the run still sees every suspension, on a real server."""

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest
from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.settings import PREFECT_API_URL, temporary_settings
from prefect.states import Scheduled, Suspended

from flows.runtime import suspension_observer
from flows.runtime.suspension_observer import (
    FlowRunSuspensionRequest,
    observe_flow_run_suspension,
    own_events,
)
from tests.flow_stack import FlowStack


def test_install_replaces_the_name_the_engine_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        suspension_observer.flow_engine, "observe_flow_run_suspension", suspension_observer.PREFECT_OBSERVER
    )
    assert not suspension_observer.installed()
    suspension_observer.install()
    assert suspension_observer.installed()


def test_the_observer_subscribes_to_its_own_runs_suspensions_only() -> None:
    """Prefect's default filter takes every run's suspensions, each sent to every observer (the last
    minute's again at each connection): under load, thousands of events a run drops."""
    run = uuid4()
    shown = own_events(run).model_dump(mode="json")
    assert shown["resource"]["id"] == [f"prefect.flow-run.{run}"]
    assert shown["event"]["name"] == ["prefect.flow-run.Suspended"]


@pytest.fixture
def client(flow_stack: FlowStack) -> Iterator[SyncPrefectClient]:
    with (
        temporary_settings({PREFECT_API_URL: flow_stack.stack.api_url}),
        get_client(sync_client=True) as sync,
    ):
        yield sync


def _new_run(client: SyncPrefectClient) -> UUID:
    """A stage run kept out of the runner's reach (scheduled in a year)."""
    deployment = client.read_deployment_by_name("etape/etape")
    later = Scheduled(scheduled_time=datetime.now(UTC) + timedelta(days=365))
    return client.create_flow_run_from_deployment(
        deployment.id, parameters={"projet_id": 1, "etape": 1}, state=later
    ).id


def _requested_within(request: FlowRunSuspensionRequest, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if request.is_requested():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.prefect
def test_a_suspension_requested_while_the_run_goes_on_is_seen(client: SyncPrefectClient) -> None:
    run = _new_run(client)
    request = FlowRunSuspensionRequest()
    with observe_flow_run_suspension(run, request):
        assert not _requested_within(request, 1)
        client.set_flow_run_state(run, Suspended(), force=True)
        assert _requested_within(request, 60)
    assert request.get_state() is not None and request.get_state().name == "Suspended"  # type: ignore[union-attr]


@pytest.mark.prefect
def test_a_suspension_requested_before_the_observer_connected_is_seen(client: SyncPrefectClient) -> None:
    run = _new_run(client)
    client.set_flow_run_state(run, Suspended(), force=True)
    request = FlowRunSuspensionRequest()
    with observe_flow_run_suspension(run, request):
        assert _requested_within(request, 60)


@pytest.mark.prefect
def test_another_runs_suspension_is_not_taken_for_its_own(client: SyncPrefectClient) -> None:
    run, other = _new_run(client), _new_run(client)
    request = FlowRunSuspensionRequest()
    with observe_flow_run_suspension(run, request):
        client.set_flow_run_state(other, Suspended(), force=True)
        assert not _requested_within(request, 2)
        client.set_flow_run_state(run, Suspended(), force=True)
        assert _requested_within(request, 60)
