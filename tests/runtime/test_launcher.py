"""The production launcher keeps the operator's settings, fills only what is unset, and never writes a
listen address into a URL; started on 0.0.0.0 with a public address, the UI calls that address."""

import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import httpx
import pytest

from flows.harness.sandbox import sandbox
from flows.runtime.launcher import (
    LaunchError,
    Stack,
    auth_headers,
    free_port,
    operator_environment,
    production_env,
    runner_defaults,
    runtime_defaults,
    start_runner,
    start_server,
)
from flows.runtime.recovery import HEARTBEAT
from implantation.settings import PROJECT_ROOT, Settings

AUTH = "siae:mot-de-passe-de-test"
EXPOSED = {"PREFECT_SERVER_API_AUTH_STRING": AUTH, "SIAE_SECRET_KEY": "cle"}


def test_the_operators_settings_reach_the_processes_unchanged(tmp_path: Path) -> None:
    operator = {
        "PREFECT_LOCAL_STORAGE_PATH": "/partage/resultats",
        "PREFECT_HOME": "/srv/siae/prefect",
        "PREFECT_RUNNER_PROCESS_LIMIT": "3",
        "PREFECT_FLOWS_HEARTBEAT_FREQUENCY": "45",
        "PREFECT_SERVER_SERVICES_TRIGGERS_ENABLED": "true",
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "SIAE_DATABASE_URL": "postgresql://siae@base/siae",
        "SIAE_SMTP_HOST": "smtp.interne",
        **EXPOSED,
    }
    env = production_env(
        operator,
        host="0.0.0.0",
        port=4311,
        data_dir=tmp_path,
        url_publique="https://siae.exemple.test",
        defaults=lambda environ: {**runtime_defaults(environ)},
    )
    assert {key: env[key] for key in operator} == operator
    # Defaults only where nothing was said.
    assert env["PREFECT_RESULTS_PERSIST_BY_DEFAULT"] == "true"
    assert env["PREFECT_SERVER_SERVICES_FOREMAN_ENABLED"] == "false"


def test_defaults_fill_what_is_unset(tmp_path: Path) -> None:
    env = production_env({}, host="127.0.0.1", port=4312, data_dir=tmp_path)
    assert env["PREFECT_HOME"] == str(tmp_path / "prefect")
    assert env["PREFECT_LOCAL_STORAGE_PATH"] == str(tmp_path / "prefect" / "resultats")
    assert env["PREFECT_FLOWS_HEARTBEAT_FREQUENCY"] == "30"
    assert env["PREFECT_RUNNER_PROCESS_LIMIT"] == "10"
    assert env["PREFECT_UI_API_URL"] == "http://127.0.0.1:4312/api"
    assert env["SIAE_PREFECT_UI_URL"] == "http://127.0.0.1:4312"
    assert env["SIAE_MODE"] == "demo"  # loopback without a key: the demonstration key under data/


def test_env_file_settings_count_and_the_environment_wins(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        "PREFECT_LOCAL_STORAGE_PATH=/partage/resultats\nSIAE_SMTP_HOST=fichier\nAUTRE=ignoree\n",
        encoding="utf-8",
    )
    merged = operator_environment({"SIAE_SMTP_HOST": "environnement"}, env_file)
    assert merged == {"SIAE_SMTP_HOST": "environnement", "PREFECT_LOCAL_STORAGE_PATH": "/partage/resultats"}


def test_beyond_the_loopback_a_public_address_is_required(tmp_path: Path) -> None:
    with pytest.raises(LaunchError, match="--url-publique") as refused:
        production_env(EXPOSED, host="0.0.0.0", port=4313, data_dir=tmp_path)
    assert "SIAE_URL_PUBLIQUE" in str(refused.value) and str(refused.value).startswith("Refus")
    with pytest.raises(LaunchError, match="adresse d'écoute"):
        production_env(
            EXPOSED, host="0.0.0.0", port=4313, data_dir=tmp_path, url_publique="http://0.0.0.0:4313"
        )


def test_behind_a_proxy_on_the_loopback_the_api_is_closed_too(tmp_path: Path) -> None:
    with pytest.raises(LaunchError, match="PREFECT_SERVER_API_AUTH_STRING") as refused:
        production_env(
            {"SIAE_SECRET_KEY": "cle"},
            host="127.0.0.1",
            port=4315,
            data_dir=tmp_path,
            url_publique="https://siae.exemple.test",
        )
    assert "https://siae.exemple.test" in str(refused.value)
    env = production_env(
        EXPOSED, host="127.0.0.1", port=4315, data_dir=tmp_path, url_publique="https://siae.exemple.test"
    )
    assert env["PREFECT_UI_API_URL"] == "https://siae.exemple.test/api"
    assert env["PREFECT_API_URL"] == "http://127.0.0.1:4315/api"


def test_e_mails_and_the_cli_link_to_the_public_address() -> None:
    settings = Settings(url_publique="https://siae.exemple.test/")
    assert settings.prefect_ui_url == "https://siae.exemple.test"
    explicit = Settings(url_publique="https://siae.exemple.test", prefect_ui_url="https://autre.test")
    assert explicit.prefect_ui_url == "https://autre.test"


def test_a_listen_address_is_never_written_into_a_url(tmp_path: Path) -> None:
    env = production_env(
        {**EXPOSED, "SIAE_URL_PUBLIQUE": "https://siae.exemple.test/"},
        host="0.0.0.0",
        port=4314,
        data_dir=tmp_path,
    )
    urls = {key: value for key, value in env.items() if "://" in value and key != "PYTHONPATH"}
    assert urls and all("0.0.0.0" not in value for value in urls.values())
    assert env["PREFECT_UI_API_URL"] == "https://siae.exemple.test/api"
    assert env["PREFECT_UI_URL"] == env["SIAE_PREFECT_UI_URL"] == "https://siae.exemple.test"
    assert env["PREFECT_API_URL"] == "http://127.0.0.1:4314/api"  # the server's machine: the loopback
    assert env["PREFECT_SERVER_API_HOST"] == "0.0.0.0"


def test_a_runner_alone_names_the_public_ui(tmp_path: Path) -> None:
    env = production_env(
        {
            "PREFECT_API_URL": "https://siae.exemple.test/api",
            "PREFECT_API_AUTH_STRING": AUTH,
            "SIAE_SECRET_KEY": "cle",
        },
        host="127.0.0.1",
        port=4200,
        data_dir=tmp_path,
        sans_serveur=True,
    )
    assert env["SIAE_PREFECT_UI_URL"] == "https://siae.exemple.test"
    assert "PREFECT_SERVER_API_HOST" not in env
    assert runner_defaults({"SIAE_URL_PUBLIQUE": "https://siae.exemple.test/"}) == {
        "PREFECT_FLOWS_HEARTBEAT_FREQUENCY": "30",
        "PREFECT_UI_URL": "https://siae.exemple.test",
        "SIAE_PREFECT_UI_URL": "https://siae.exemple.test",
    }
    assert runner_defaults({"PREFECT_FLOWS_HEARTBEAT_FREQUENCY": "60"}) == {}


@pytest.mark.prefect
def test_on_every_interface_the_ui_calls_the_public_address(tmp_path: Path) -> None:
    port = free_port("0.0.0.0")
    public = f"http://siae.exemple.test:{port}"
    env = production_env(
        {**EXPOSED, "PREFECT_API_AUTH_STRING": AUTH},
        host="0.0.0.0",
        port=port,
        data_dir=tmp_path,
        url_publique=public,
    )
    stack = Stack(env, tmp_path / "journaux")
    try:
        stack.services.append(start_server(env, stack.log_dir))
        local = f"http://127.0.0.1:{port}"
        assert httpx.post(f"{local}/api/flow_runs/filter", json={}, timeout=10).status_code == 401
        settings = httpx.get(f"{local}/ui-settings", headers=auth_headers(env), timeout=10).json()
        assert settings["api_url"] == f"{public}/api"
    finally:
        stack.stop()


@pytest.mark.prefect
def test_a_runner_started_without_the_launcher_makes_its_runs_beat(tmp_path: Path) -> None:
    """Heartbeats are the runner's own setting: started with none (a unit file, a shell), its runs still
    tell the server they live, so another machine's recovery leaves them alone."""
    extra = {"SIAE_CONFIG_DIR": str(PROJECT_ROOT / "config")}
    with sandbox(tmp_path, f"sqlite:///{tmp_path / 'siae.db'}", tmp_path / "data", extra=extra) as box:
        del box.stack.env["PREFECT_FLOWS_HEARTBEAT_FREQUENCY"]
        box.stack.start(schedules=False)
        run = box.api.run_deployment("echeances/echeances", {"aujourdhui": date(2027, 1, 4).isoformat()})
        assert box.api.wait_state(run, {"COMPLETED"}, timeout=180) == "COMPLETED"
        query = {
            "filter": {
                "event": {"name": [HEARTBEAT]},
                "resource": {"id": [f"prefect.flow-run.{run}"]},
            }
        }
        deadline = time.monotonic() + 60
        while not box.api.post("/events/filter", query)["events"]:  # stored in batches
            assert time.monotonic() < deadline, "aucun battement de cœur du run"
            time.sleep(0.5)


@pytest.mark.prefect
def test_a_runner_on_other_storage_than_the_others_refuses_to_start(tmp_path: Path) -> None:
    """A replay on another machine reads the task results of the first: a runner whose
    ``PREFECT_LOCAL_STORAGE_PATH`` is not the shared folder says so and stops; on the shared one it serves."""
    extra = {"SIAE_CONFIG_DIR": str(PROJECT_ROOT / "config")}
    with sandbox(tmp_path, f"sqlite:///{tmp_path / 'siae.db'}", tmp_path / "data", extra=extra) as box:
        box.stack.start(schedules=False)
        shared = box.stack.env["PREFECT_LOCAL_STORAGE_PATH"]
        (tmp_path / "machine-b" / "prefect").mkdir(parents=True)
        other_machine = {**box.stack.env, "PREFECT_HOME": str(tmp_path / "machine-b" / "prefect")}
        with pytest.raises(LaunchError, match="n'est pas celui des autres runners"):
            start_runner(
                {**other_machine, "PREFECT_LOCAL_STORAGE_PATH": str(tmp_path / "machine-b" / "resultats")},
                tmp_path / "journaux-b",
                schedules=False,
                name="runner-b",
            )
        runner_b = start_runner(
            {**other_machine, "PREFECT_LOCAL_STORAGE_PATH": shared},
            tmp_path / "journaux-b-partage",
            schedules=False,
            name="runner-b",
        )
        try:
            assert runner_b.alive()
            assert f"Résultats des tâches : {shared}" in runner_b.log_path.read_text()
        finally:
            runner_b.stop()


@pytest.mark.prefect
def test_make_serve_as_in_the_runbook(tmp_path: Path) -> None:
    """``siae migrer``, then ``python -m flows.runtime.serve --hote 0.0.0.0 --url-publique …`` (what
    ``make serve ARGS=…`` runs) with the operator's settings in ``.env``: the UI calls the public address,
    and the operator's results folder is the runner's."""
    port = free_port("0.0.0.0")
    public = f"http://siae.exemple.test:{port}"
    workdir = tmp_path / "travail"
    workdir.mkdir()
    storage = tmp_path / "partage" / "resultats"
    (workdir / ".env").write_text(
        f"PREFECT_SERVER_API_AUTH_STRING={AUTH}\nPREFECT_LOCAL_STORAGE_PATH={storage}\n", encoding="utf-8"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "SIAE_"))}
    env |= {
        "SIAE_SECRET_KEY": "cle",
        "SIAE_DATA_DIR": str(tmp_path / "data"),
        "SIAE_DATABASE_URL": f"sqlite:///{tmp_path / 'siae.db'}",
        "SIAE_CONFIG_DIR": str(PROJECT_ROOT / "config"),
    }
    siae = Path(sys.executable).parent / "siae"
    assert (
        subprocess.run([str(siae), "migrer"], env=env, cwd=workdir, timeout=300, check=False).returncode == 0
    )
    log_path = tmp_path / "make-serve.log"
    with log_path.open("wb") as log:
        serve = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "flows.runtime.serve",
                "--hote",
                "0.0.0.0",
                "--port",
                str(port),
                "--url-publique",
                public,
            ],
            env=env,
            cwd=workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        headers = auth_headers({"PREFECT_API_AUTH_STRING": AUTH})
        deadline = time.monotonic() + 300
        while True:
            assert serve.poll() is None, log_path.read_text(errors="replace")
            assert time.monotonic() < deadline, "make serve ne répond pas"
            try:
                found = httpx.get(
                    f"http://127.0.0.1:{port}/api/deployments/name/etape/etape", headers=headers, timeout=5
                )
                if found.status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        settings = httpx.get(f"http://127.0.0.1:{port}/ui-settings", headers=headers, timeout=30).json()
        assert settings["api_url"] == f"{public}/api"
        assert (storage / ".siae-stockage").is_file()  # the runner checked and marked the operator's folder
    finally:
        serve.send_signal(signal.SIGTERM)
        try:
            serve.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(serve.pid, signal.SIGKILL)
            serve.wait(timeout=30)
    assert serve.returncode == 0
