"""What the runner checks and names as it starts, before it serves any run."""

import asyncio
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from prefect.settings import PREFECT_API_URL, temporary_settings

from flows.harness.local import free_port
from flows.runtime.runner import _version_refusal, flows
from tests.flow_stack import FlowStack


def test_every_flow_keeps_its_results_in_the_folder_the_runner_names(tmp_path: Path) -> None:
    served = flows(schedules=False, storage=tmp_path)
    assert {options["name"] for _flow, options in served} >= {"demarrer-implantation", "etape"}
    assert all(flow.result_storage == tmp_path for flow, _options in served)
    assert all(flow.result_storage is None for flow, _options in flows(schedules=False))


async def _refusal(api_url: str) -> str | None:
    with temporary_settings({PREFECT_API_URL: api_url}):
        async with get_client() as client:
            return await _version_refusal(client)


@pytest.mark.prefect
def test_the_runner_checks_the_servers_version_once_for_its_runs(flow_stack: FlowStack) -> None:
    """The runs leave the check out (``PREFECT_CLIENT_SERVER_VERSION_CHECK_ENABLED``); the runner does it,
    and refuses to start, in French, when no server of a known version answers."""
    assert asyncio.run(_refusal(flow_stack.stack.api_url)) is None
    refusal = asyncio.run(_refusal(f"http://127.0.0.1:{free_port()}/api"))
    assert refusal is not None and refusal.startswith(
        "Refus de démarrer : le serveur Prefect http://127.0.0.1:"
    )
    assert "ne répond pas" in refusal
