"""Runs forked from the runner's warm forkserver: same behaviour as Prefect's own start, on a real server."""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from prefect import flow, tags
from prefect.client.orchestration import SyncPrefectClient
from prefect.context import FlowRunContext, serialize_context
from prefect.settings import (
    PREFECT_API_URL,
    PREFECT_CLIENT_MAX_RETRIES,
    get_current_settings,
    temporary_settings,
)

from flows.harness.local import cmdline
from flows.runtime import suspension, tuning, warm_start
from tests.flow_stack import FlowStack


@flow(name="essai-demarrage-a-chaud", persist_result=False)
def report(path: str) -> None:
    """Writes where and with which settings it ran, for the test to read."""
    settings = get_current_settings()
    Path(path).write_text(
        json.dumps(
            {
                "ppid": os.getppid(),
                "api_url": str(settings.api.url),
                "logging_level": str(settings.logging.level),
                "shared_tls": getattr(SyncPrefectClient.__init__, "_siae_shared_tls", False),
                "observer_off": suspension.installed(),
                "csrf_support": settings.client.csrf_support_enabled,
                "version_check": settings.client.server_version_check_enabled,
                "result_storage": getattr(_result_storage(), "basepath", None),
            }
        )
    )


def _result_storage() -> Any:
    context = FlowRunContext.get()
    return context.result_store.result_storage if context and context.result_store else None


def test_settings_variables_leave_run_data_out() -> None:
    env = {
        "PREFECT_API_URL": "http://127.0.0.1:1/api",
        "PREFECT__FLOW_RUN_ID": "x",
        "PREFECT_HOME": None,
        "PATH": "/",
    }
    assert warm_start._settings_variables(env) == {"PREFECT_API_URL": "http://127.0.0.1:1/api"}


def test_a_run_reuses_the_forkserver_settings_only_when_its_variables_are_the_same() -> None:
    """The environment a run receives (settings as variables, then the environment) on an unchanged
    machine gives the forkserver's settings; any changed, added or removed setting does not."""
    # The forkserver's own snapshot: the test process's environment may have changed since (Prefect's
    # in-process engine writes variables into it when a test runs a flow here).
    environ: dict[str, str | None] = {"HOME": "/ailleurs", **warm_start._FORKSERVER_SETTINGS}
    assert warm_start.reuses_forkserver_settings(environ)
    assert warm_start.reuses_forkserver_settings(environ | {"PREFECT__FLOW_RUN_ID": "run data"})
    assert not warm_start.reuses_forkserver_settings(environ | {"PREFECT_LOGGING_LEVEL": "DEBUG-X"})
    assert not warm_start.reuses_forkserver_settings(environ | {"PREFECT_CLIENT_MAX_RETRIES": "9"})
    some_setting = next(iter(warm_start._FORKSERVER_SETTINGS))
    assert not warm_start.reuses_forkserver_settings({k: v for k, v in environ.items() if k != some_setting})


def test_the_runner_derives_the_environment_and_context_once_per_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = warm_start._context()
    assert warm_start._context() is first
    assert warm_start._context()["settings_context"] == serialize_context()["settings_context"]
    with tags("essai"):  # other tags: another context, then the first one again
        assert warm_start._context()["tags_context"] == {"current_tags": {"essai"}}
    assert warm_start._context() == first

    monkeypatch.setenv("SIAE_ESSAI_ENVIRONNEMENT", "1")  # the process environment is read each time
    assert warm_start._environment()["SIAE_ESSAI_ENVIRONNEMENT"] == "1"
    with temporary_settings({PREFECT_CLIENT_MAX_RETRIES: 7}):  # other settings, other variables
        assert warm_start._environment()["PREFECT_CLIENT_MAX_RETRIES"] == "7"
        assert warm_start._context()["settings_context"] != first["settings_context"]
    assert warm_start._environment().get("PREFECT_CLIENT_MAX_RETRIES") != "7"


@flow(name="essai-contexte", persist_result=False)
def context_inside() -> dict[str, Any]:
    return warm_start._context()


@pytest.mark.prefect
def test_inside_a_run_the_context_is_the_runs(flow_stack: FlowStack) -> None:
    with temporary_settings({PREFECT_API_URL: flow_stack.stack.api_url}):
        seen = context_inside()
    assert seen["flow_run_context"]["flow_run"]["name"] and seen is not warm_start._context()


def _after_forkserver_start(code: str, **env: str) -> str:
    """Runs ``code`` in a fresh interpreter once it has imported what the runner's forkserver imports at
    its start, in the same order (as multiprocessing does), with the patches on; returns what it printed."""
    start = "import sys\nfor name in sys.argv[1:]: __import__(name)\n"
    seen = subprocess.run(
        [sys.executable, "-c", start + code, *warm_start.PRELOAD],
        env=os.environ | {"SIAE_PREFECT_TUNING": "1", "SIAE_PREFECT_TUNING_OFF": ""} | env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert seen.returncode == 0, seen.stderr
    return seen.stdout


@pytest.mark.parametrize(("off", "frozen"), [("", True), (tuning.GC_HEAP, False)])
def test_the_forkserver_preloads_the_signature_checks_and_freezes_its_heap_with_gc_heap(
    off: str, frozen: bool
) -> None:
    """What the runner's forkserver does at its start (multiprocessing imports each preloaded module in
    order), in a fresh interpreter: pyHanko is loaded for the stage-5 checks, Prefect's models have their
    validators built, the six gates' forms, the school holidays and the document templates are ready, and
    the heap that every run inherits is frozen for the garbage collector unless ``gc_heap`` is off."""
    code = (
        "import gc, sys\n"
        "from flows.gates import _FORMS\n"
        "from flows.runtime.preload import build_prefect_models\n"
        "from implantation.calendar import school_holidays\n"
        "from implantation.documents.render import TEMPLATE_FILES, _Template\n"
        "from prefect.client.schemas.objects import FlowRun\n"
        "print(gc.get_freeze_count() > 0, 'pyhanko' in sys.modules, FlowRun.__pydantic_complete__,"
        " build_prefect_models(), len(_FORMS), school_holidays.cache_info().currsize,"
        " len(_Template.patched) >= len(TEMPLATE_FILES))"
    )
    seen = _after_forkserver_start(code, SIAE_PREFECT_TUNING_OFF=off)
    assert seen.split() == [str(frozen), "True", "True", "0", "6", "1", "True"]


def test_a_forked_run_finds_the_database_engine_ready_without_a_connection_of_the_forkserver(
    migrated_url: str,
) -> None:
    """The forkserver creates the engine of its database and compiles each table's ``session.get``; it
    keeps no connection, so a run forked from it opens its own and finds the project's read compiled
    (SQLAlchemy's echo says « cached since », not « generated in »)."""
    code = (
        "import os\n"
        "from sqlmodel import Session\n"
        "from implantation.db.models import ImplantationProject\n"
        "from implantation.db.session import get_engine\n"
        "from implantation.settings import get_settings\n"
        "engine = get_engine(get_settings().effective_database_url)\n"
        "print('forkserver', engine.pool.checkedin(), engine.pool.checkedout(), flush=True)\n"
        "child = os.fork()\n"
        "if child == 0:\n"
        "    engine.echo = True\n"
        "    with Session(engine) as session:\n"
        "        print('run', get_engine(get_settings().effective_database_url) is engine,"
        " session.get(ImplantationProject, 1), flush=True)\n"
        "    os._exit(0)\n"
        "print('exit', os.waitpid(child, 0)[1])\n"
    )
    seen = _after_forkserver_start(code, SIAE_DATABASE_URL=migrated_url)
    lines = seen.splitlines()
    assert "forkserver 0 0" in lines and "run True None" in lines and "exit 0" in lines
    read = next(i for i, line in enumerate(lines) if "FROM implantation_project" in line)
    how = next(line for line in lines[read:] if "sqlalchemy.engine.Engine [" in line)
    assert "[cached since" in how, seen


def _run(fs: FlowStack, out: Path, storage: Path | None = None) -> dict[str, str]:
    flow_ = report.with_options(result_storage=storage) if storage else report
    process = warm_start.run_flow_in_subprocess(flow_, parameters={"path": str(out)})
    process.join(timeout=180)
    assert process.exitcode == 0
    return dict(json.loads(out.read_text()))


@pytest.mark.prefect
def test_a_forked_run_completes_on_the_server_with_the_runs_settings(
    flow_stack: FlowStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fs = flow_stack
    for name, value in fs.stack.env.items():
        if name.startswith("PREFECT_"):
            monkeypatch.setenv(name, value)

    first = _run(fs, tmp_path / "premier.json", storage=tmp_path / "resultats")
    assert "multiprocessing.forkserver" in cmdline(int(first["ppid"]))
    # The product's settings reach the run (no CSRF token asked of a server without the protection, no
    # version check per run), and the folder the runner names is the run's result storage.
    assert first["csrf_support"] is False and first["version_check"] is False
    assert first["result_storage"] == str(tmp_path / "resultats")
    assert first["api_url"] == fs.stack.api_url
    assert first["shared_tls"] is True  # its Prefect clients share one TLS context
    assert first["observer_off"] is True  # no suspension observer (patch ``no_observer``)

    # A settings variable that differs from the forkserver's reaches the run: its settings are rebuilt.
    monkeypatch.setenv("PREFECT_LOGGING_LEVEL", "DEBUG")
    second = _run(fs, tmp_path / "second.json")
    assert second["logging_level"] == "DEBUG" and first["logging_level"] != "DEBUG"
    assert second["ppid"] == first["ppid"]

    runs = fs.api.post("/flow_runs/filter", {"flows": {"name": {"any_": ["essai-demarrage-a-chaud"]}}})
    assert sorted(r["state"]["type"] for r in runs) == ["COMPLETED", "COMPLETED"]


@pytest.mark.prefect
def test_without_the_forkserver_the_copy_spawns_and_applies_only_the_patches_on(
    flow_stack: FlowStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``SIAE_PREFECT_TUNING_OFF=forkserver,shared_tls,no_observer``: a fresh interpreter per run, as
    Prefect's, with the other run-side patch (``settings_reuse``) still applied in it, and
    Prefect's own TLS set-up and suspension observer."""
    for name, value in flow_stack.stack.env.items():
        if name.startswith("PREFECT_"):
            monkeypatch.setenv(name, value)
    monkeypatch.setattr(
        warm_start,
        "_patches",
        frozenset(tuning.PATCHES) - {tuning.FORKSERVER, tuning.SHARED_TLS, tuning.NO_OBSERVER},
    )
    seen = _run(flow_stack, tmp_path / "spawn.json")
    assert int(seen["ppid"]) == os.getpid()  # started by this process, not by a forkserver
    assert seen["shared_tls"] is False
    assert seen["observer_off"] is False  # Prefect's suspension observer, as released
