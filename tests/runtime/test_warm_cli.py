"""The warm process behind ``siae``: a command it serves behaves as one run in a new process.

Each test runs the real ``siae`` script in subprocesses, with the server in a private directory, and
stops the server afterwards. Under the suite the warm process is off (``SIAE_CLI_WARM=0`` in conftest);
these tests turn it on for themselves.
"""

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlmodel import Session

from flows.runtime.warm_cli import stop_servers
from implantation.config.loader import config_copy
from implantation.config.schema import ProcessConfig
from implantation.settings import PROJECT_ROOT
from tests import factories

SIAE = Path(sys.executable).with_name("siae")
SERVED = re.compile(r"siae : commande confiée au processus chaud n° (\d+) \(copie n° \d+\)\n")


def siae(env: dict[str, str], *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SIAE), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=180, check=False
    )


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} : pas en {timeout:.0f} s")
        time.sleep(0.1)


def server_pid(directory: Path) -> int | None:
    """The pid of the live server of ``directory`` (its socket is bound once its imports are done)."""
    sockets = list(directory.glob("*.sock"))
    if not sockets:
        return None
    text = Path(f"{sockets[0]}.lock").read_text().strip()
    return int(text) if text else None


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "zombie" not in Path(f"/proc/{pid}/status").read_text()


@pytest.fixture
def warm_dir(tmp_path: Path) -> Iterator[Path]:
    directory = tmp_path / "chaud"
    directory.mkdir(mode=0o700)
    yield directory
    stop_servers(str(directory))
    wait_for(lambda: not list(directory.glob("*.sock")), "arrêt du processus chaud")


@pytest.fixture
def env(migrated_url: str, tmp_path: Path, warm_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "SIAE_DATABASE_URL": migrated_url,
        "SIAE_DATA_DIR": str(tmp_path / "donnees"),
        "SIAE_CLI_WARM": "1",
        "SIAE_CLI_WARM_DIR": str(warm_dir),
        "SIAE_DEBUG": "1",
        "COLUMNS": "200",
    }


def started(env: dict[str, str], warm_dir: Path) -> int:
    """The first command runs in its own process and starts the server; returns the server's pid."""
    first = siae(env, "projet", "lister")
    assert first.returncode == 0, first.stderr
    assert not SERVED.search(first.stderr)
    wait_for(lambda: server_pid(warm_dir) is not None, "démarrage du processus chaud")
    pid = server_pid(warm_dir)
    assert pid is not None
    return pid


def test_a_served_command_prints_and_exits_as_in_its_own_process(
    env: dict[str, str], warm_dir: Path, session: Session, cfg: ProcessConfig
) -> None:
    project, _lead = factories.project(session, cfg)
    session.commit()
    cold_env = {**env, "SIAE_CLI_WARM": "0"}
    server = started(env, warm_dir)
    for args in (["projet", "lister"], ["projet", "chronologie", str(project.id)], ["--help"]):
        cold, warm = siae(cold_env, *args), siae(env, *args)
        served = SERVED.search(warm.stderr)
        assert served and int(served[1]) == server, warm.stderr
        assert warm.returncode == cold.returncode == 0
        assert warm.stdout == cold.stdout
        assert project.reference in warm.stdout or args == ["--help"]
    refused_cold = siae(cold_env, "projet", "chronologie", "999")
    refused_warm = siae(env, "projet", "chronologie", "999")
    assert refused_warm.returncode == refused_cold.returncode == 1
    assert "Projet introuvable : « 999 »" in refused_warm.stderr
    assert SERVED.sub("", refused_warm.stderr).strip() == refused_cold.stderr.strip()


def test_each_command_gets_its_own_environment_and_directory(
    env: dict[str, str], warm_dir: Path, session: Session, cfg: ProcessConfig, tmp_path: Path
) -> None:
    factories.project(session, cfg)
    session.commit()
    started(env, warm_dir)
    for day in ("2027-03-15", "2027-06-01"):
        listed = siae({**env, "SIAE_TODAY": day}, "projet", "lister")
        assert SERVED.search(listed.stderr), listed.stderr
        assert f"Projets d'implantation au {day[8:10]}/{day[5:7]}/{day[:4]}" in listed.stdout
    elsewhere = tmp_path / "ailleurs"
    elsewhere.mkdir()
    exported = siae(env, "tableau", "--format", "csv", "--sortie", "tableau.csv", cwd=elsewhere)
    assert exported.returncode == 0 and SERVED.search(exported.stderr), exported.stderr
    assert (elsewhere / "tableau.csv").read_text(encoding="utf-8").count("\n") >= 2


def test_an_edited_configuration_is_read_again(
    env: dict[str, str], warm_dir: Path, session: Session, cfg: ProcessConfig, tmp_path: Path
) -> None:
    factories.project(session, cfg)
    session.commit()
    config_dir = config_copy(PROJECT_ROOT / "config", tmp_path / "config")
    env = {**env, "SIAE_CONFIG_DIR": str(config_dir)}
    started(env, warm_dir)
    stages = config_dir / "etapes.toml"
    stages.write_text(
        stages.read_text(encoding="utf-8").replace(
            "Identifier l'établissement candidat", "Repérer l'établissement candidat"
        ),
        encoding="utf-8",
    )
    listed = siae(env, "projet", "lister")
    assert SERVED.search(listed.stderr), listed.stderr
    assert "Repérer l'établissement" in listed.stdout


def test_a_changed_module_retires_the_server_and_the_command_still_runs(
    env: dict[str, str], warm_dir: Path, tmp_path: Path
) -> None:
    """``sitecustomize`` stands for any module the server imported: it is on the server's path only."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text("VERSION = 1\n", encoding="utf-8")
    env = {**env, "PYTHONPATH": os.pathsep.join([str(site), env.get("PYTHONPATH", "")])}
    old = started(env, warm_dir)
    (site / "sitecustomize.py").write_text("VERSION = 22\n", encoding="utf-8")
    again = siae(env, "projet", "lister")
    assert again.returncode == 0, again.stderr
    assert not SERVED.search(again.stderr), "servie par un processus construit sur l'ancien module"
    wait_for(lambda: not alive(old), "arrêt de l'ancien processus chaud")
    wait_for(lambda: server_pid(warm_dir) not in (None, old), "démarrage d'un nouveau processus chaud")
    served = SERVED.search(siae(env, "projet", "lister").stderr)
    assert served and int(served[1]) == server_pid(warm_dir)


def locked_pid(directory: Path) -> int | None:
    """The server's pid, written in its lock file as soon as it holds the lock (before its imports)."""
    for lock in directory.glob("*.sock.lock"):
        text = lock.read_text().strip()
        if text:
            return int(text)
    return None


def test_an_idle_server_stops_and_leaves_no_socket(env: dict[str, str], warm_dir: Path) -> None:
    """With one second of idleness allowed, the socket may live too briefly to be seen: the lock tells."""
    first = siae({**env, "SIAE_CLI_WARM_IDLE_SECONDS": "1"}, "projet", "lister")
    assert first.returncode == 0, first.stderr
    wait_for(lambda: locked_pid(warm_dir) is not None, "démarrage du processus chaud")
    pid = locked_pid(warm_dir)
    assert pid is not None
    wait_for(lambda: not alive(pid), "arrêt du processus chaud inactif")
    assert not list(warm_dir.glob("*.sock"))


def test_a_directory_others_can_open_is_not_used(env: dict[str, str], warm_dir: Path) -> None:
    warm_dir.chmod(0o777)
    listed = siae(env, "projet", "lister")
    assert listed.returncode == 0, listed.stderr
    again = siae(env, "projet", "lister")
    assert not SERVED.search(again.stderr)
    assert list(warm_dir.iterdir()) == []


def test_the_client_loads_none_of_the_command_stacks() -> None:
    """The client is what every command pays before being served: the standard library only."""
    probe = "import json, sys; import flows.runtime.warm_cli; print(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    loaded = {name.split(".")[0] for name in json.loads(done.stdout)}
    assert loaded.isdisjoint({"typer", "click", "rich", "pydantic", "sqlalchemy", "sqlmodel", "implantation"})


def test_a_served_command_writes_in_the_callers_encoding(
    env: dict[str, str], warm_dir: Path, session: Session, cfg: ProcessConfig
) -> None:
    factories.project(session, cfg)  # « Établissement », « Échéance » in the listing
    session.commit()
    started(env, warm_dir)
    latin = {**env, "PYTHONIOENCODING": "latin-1"}
    cold = subprocess.run(
        [str(SIAE), "projet", "lister"], env={**latin, "SIAE_CLI_WARM": "0"}, capture_output=True, timeout=180
    )
    warm = subprocess.run([str(SIAE), "projet", "lister"], env=latin, capture_output=True, timeout=180)
    assert SERVED.search(warm.stderr.decode("latin-1"))
    assert warm.stdout == cold.stdout and "é".encode("latin-1") in warm.stdout


@pytest.mark.parametrize("off", ["0", "false", "no", "OFF"])
def test_the_warm_process_is_turned_off_as_the_settings_read_a_boolean(
    env: dict[str, str], warm_dir: Path, off: str
) -> None:
    started(env, warm_dir)
    listed = siae({**env, "SIAE_CLI_WARM": off}, "projet", "lister")
    assert listed.returncode == 0, listed.stderr
    assert not SERVED.search(listed.stderr)
