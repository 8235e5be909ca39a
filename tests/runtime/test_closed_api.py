"""A closed Prefect API: ``make serve`` refuses to expose it without basic auth, and with it the runner works."""

import asyncio
from datetime import date
from pathlib import Path

import httpx
import pytest
from prefect.client.orchestration import get_client
from prefect.settings import PREFECT_API_AUTH_STRING, PREFECT_API_URL, temporary_settings

from flows.harness.local import auth_headers
from flows.harness.sandbox import sandbox
from flows.runtime import serve
from flows.runtime.runner import _version_refusal
from implantation.settings import PROJECT_ROOT

AUTH = "siae:mot-de-passe-de-test"


async def _refusal(api_url: str, auth: str) -> str | None:
    with temporary_settings({PREFECT_API_URL: api_url, PREFECT_API_AUTH_STRING: auth}):
        async with get_client() as client:
            return await _version_refusal(client)


@pytest.mark.parametrize(
    ("hote", "sans_serveur", "environ", "refused"),
    [
        ("0.0.0.0", False, {"SIAE_SECRET_KEY": "k"}, "PREFECT_SERVER_API_AUTH_STRING"),
        ("serveur.interne", False, {"SIAE_SECRET_KEY": "k"}, "PREFECT_SERVER_API_AUTH_STRING"),
        ("0.0.0.0", False, {"PREFECT_SERVER_API_AUTH_STRING": AUTH}, "SIAE_SECRET_KEY"),
        (
            "127.0.0.1",
            True,
            {"PREFECT_API_URL": "http://serveur.interne:4200/api", "SIAE_SECRET_KEY": "k"},
            "PREFECT_API_AUTH_STRING",
        ),
    ],
)
def test_an_exposed_api_without_credentials_is_refused(
    hote: str, sans_serveur: bool, environ: dict[str, str], refused: str
) -> None:
    reason = serve.closed_api_env(hote, sans_serveur, environ)
    assert isinstance(reason, str) and refused in reason and reason.startswith("Refus de démarrer")


def test_credentials_go_to_the_server_and_the_runner() -> None:
    exposed = serve.closed_api_env(
        "0.0.0.0", False, {"PREFECT_SERVER_API_AUTH_STRING": AUTH, "SIAE_SECRET_KEY": "k"}
    )
    assert exposed == {"PREFECT_SERVER_API_AUTH_STRING": AUTH, "PREFECT_API_AUTH_STRING": AUTH}
    runner = serve.closed_api_env(
        "127.0.0.1",
        True,
        {
            "PREFECT_API_URL": "http://serveur.interne:4200/api",
            "PREFECT_API_AUTH_STRING": AUTH,
            "SIAE_SECRET_KEY": "k",
        },
    )
    assert runner == {"PREFECT_API_AUTH_STRING": AUTH}
    # On the loopback nothing is required: the demo key under data/ keys the codes.
    assert serve.closed_api_env("127.0.0.1", False, {}) == {"SIAE_MODE": "demo"}
    assert serve.closed_api_env("::1", False, {}) == {"SIAE_MODE": "demo"}


def test_make_serve_refuses_before_starting_anything(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("PREFECT_SERVER_API_AUTH_STRING", "PREFECT_API_AUTH_STRING", "SIAE_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SIAE_DATA_DIR", str(tmp_path))
    assert serve.main(["--hote", "0.0.0.0"]) == 2
    assert list(tmp_path.iterdir()) == []  # no database created, no server started


@pytest.mark.prefect
def test_with_the_auth_string_the_api_is_closed_and_the_runner_still_works(tmp_path: Path) -> None:
    extra = {
        "PREFECT_SERVER_API_AUTH_STRING": AUTH,
        "PREFECT_API_AUTH_STRING": AUTH,
        "SIAE_CONFIG_DIR": str(PROJECT_ROOT / "config"),
    }
    with sandbox(tmp_path, f"sqlite:///{tmp_path / 'siae.db'}", tmp_path / "data", extra=extra) as box:
        box.stack.start(schedules=False)
        api_url = box.stack.api_url
        assert httpx.get(f"{api_url}/deployments/name/echeances/echeances").status_code == 401
        wrong = auth_headers({"PREFECT_API_AUTH_STRING": "siae:autre"})
        assert httpx.post(f"{api_url}/flow_runs/filter", json={}, headers=wrong).status_code == 401
        # A runner given the wrong password refuses to start, in French, without a trace or the password.
        refusal = asyncio.run(_refusal(api_url, "siae:autre"))
        assert refusal is not None and refusal.startswith(f"Refus de démarrer : le serveur Prefect {api_url}")
        assert "HTTP 401" in refusal and "autre" not in refusal
        # The runner and its flow runs authenticate: the daily sweep runs and publishes the journal's head.
        run = box.api.run_deployment("echeances/echeances", {"aujourdhui": date(2027, 1, 4).isoformat()})
        assert box.api.wait_state(run, {"COMPLETED"}, timeout=180) == "COMPLETED"
        assert any(a["key"] == "empreinte-journal" for a in box.api.artifacts())
