"""The product's Prefect settings: real Prefect settings, and the operator's own values win."""

import logging
import subprocess
import sys
from pathlib import Path

import pytest
from prefect.settings import Settings

from flows.harness.local import free_port, prefect_env
from flows.runtime.launcher import runtime_defaults
from flows.runtime.prefect_defaults import DEFAULTS, LOGGING_OVERRIDES, defaults_for


def test_only_what_the_operator_did_not_set_is_filled() -> None:
    filled = defaults_for({"PREFECT_RUNNER_PROCESS_LIMIT": "4", "PATH": "/usr/bin"})
    assert "PREFECT_RUNNER_PROCESS_LIMIT" not in filled
    assert filled["PREFECT_FLOWS_HEARTBEAT_FREQUENCY"] == "30"
    assert set(filled) == set(DEFAULTS) - {"PREFECT_RUNNER_PROCESS_LIMIT"}
    assert defaults_for(dict.fromkeys(DEFAULTS, "x")) == {}


def test_every_default_is_a_setting_of_the_prefect_release_in_use(monkeypatch: pytest.MonkeyPatch) -> None:
    """A name Prefect no longer knows would be ignored without a word: the setting would silently stop."""
    for name, default in DEFAULTS.items():
        monkeypatch.setenv(name, default.value)
    applied = Settings().to_environment_variables(exclude_unset=True)
    missing = sorted(name for name in DEFAULTS.keys() - LOGGING_OVERRIDES if name not in applied)
    assert missing == [], f"réglages inconnus de cette version de Prefect : {missing}"


def test_the_logging_overrides_reach_prefects_logging_configuration(tmp_path: Path) -> None:
    """Prefect applies them when it sets its logging up: a misspelt override would be ignored without a word.
    The task runs' finished lines (INFO) are left out; the flows' INFO lines and the tasks' warnings stay."""
    code = (
        "import logging\n"
        "from prefect.logging.configuration import setup_logging\n"
        "setup_logging()\n"
        "print(logging.getLogger('prefect.task_runs').getEffectiveLevel(),"
        " logging.getLogger('prefect.flow_runs').getEffectiveLevel())"
    )
    env = prefect_env(tmp_path / "prefect", free_port())
    seen = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert {"PREFECT_LOGGING_LOGGERS_PREFECT_TASK_RUNS_LEVEL"} == LOGGING_OVERRIDES
    assert seen.stdout.split() == [str(logging.WARNING), str(logging.INFO)]


def test_each_default_says_why() -> None:
    assert all(len(default.reason) > 20 for default in DEFAULTS.values())


def test_the_local_stack_gets_the_defaults_and_the_operators_values(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PREFECT_RUNNER_PROCESS_LIMIT", "4")
    monkeypatch.delenv("PREFECT_FLOWS_HEARTBEAT_FREQUENCY", raising=False)
    env = prefect_env(tmp_path / "prefect", free_port())
    assert env["PREFECT_RUNNER_PROCESS_LIMIT"] == "4"
    assert env["PREFECT_FLOWS_HEARTBEAT_FREQUENCY"] == DEFAULTS["PREFECT_FLOWS_HEARTBEAT_FREQUENCY"].value
    assert set(DEFAULTS) <= set(env)


@pytest.mark.parametrize(
    ("server", "client_default"),
    [
        ({}, "false"),
        ({"PREFECT_SERVER_API_CSRF_PROTECTION_ENABLED": "false"}, "false"),
        ({"PREFECT_SERVER_API_CSRF_PROTECTION_ENABLED": "true"}, None),
        ({"PREFECT_SERVER_CSRF_PROTECTION_ENABLED": "1"}, None),  # Prefect's older name
    ],
)
def test_the_clients_ask_no_csrf_token_unless_the_server_is_protected(
    server: dict[str, str], client_default: str | None
) -> None:
    """A client without CSRF support is refused every write by a protected server: where the operator
    protects it, Prefect's own default (support on) stays, in the launcher's environment too."""
    assert defaults_for(server).get("PREFECT_CLIENT_CSRF_SUPPORT_ENABLED") == client_default
    assert runtime_defaults(server).get("PREFECT_CLIENT_CSRF_SUPPORT_ENABLED") == client_default
