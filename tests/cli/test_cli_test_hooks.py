"""The test hooks (SIAE_TODAY, SIAE_TEST_FAULT) are refused in production, with a French message that names
the variable; the demonstration and the test suite (SIAE_MODE) accept them."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from implantation import fault_points as faults
from implantation.settings import Mode, Settings, get_settings

SIAE = Path(sys.executable).with_name("siae")


def _siae(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SIAE), *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture
def empty_database(tmp_path: Path) -> dict[str, str]:
    """The environment of a production deployment with an empty, migrated database (no test mode)."""
    env = {k: v for k, v in os.environ.items() if k not in ("SIAE_MODE", "SIAE_TODAY", "SIAE_TEST_FAULT")}
    env.update(SIAE_DATA_DIR=str(tmp_path), SIAE_DATABASE_URL=f"sqlite:///{tmp_path / 'siae.db'}")
    created = _siae(env, "init-db")
    assert created.returncode == 0, created.stderr
    return env


def test_a_pinned_day_is_refused_in_production_naming_the_variable(empty_database: dict[str, str]) -> None:
    refused = _siae({**empty_database, "SIAE_TODAY": "2026-10-01"}, "projet", "lister")
    assert refused.returncode == 1
    message = " ".join(refused.stderr.split())
    assert (
        "SIAE_TODAY est réservée à la démonstration et aux tests : elle est refusée en production" in message
    )
    assert "Traceback" not in refused.stderr

    listed = _siae(empty_database, "projet", "lister")
    assert listed.returncode == 0, listed.stderr
    assert "Aucun projet." in listed.stdout

    for mode in ("demo", "test"):
        pinned = _siae({**empty_database, "SIAE_TODAY": "2026-10-01", "SIAE_MODE": mode}, "projet", "lister")
        assert pinned.returncode == 0, pinned.stderr


def test_a_fault_point_is_refused_in_production(empty_database: dict[str, str]) -> None:
    refused = _siae({**empty_database, "SIAE_TEST_FAULT": "decision:/tmp/marqueur"}, "projet", "lister")
    assert refused.returncode == 1
    assert "SIAE_TEST_FAULT est réservée à la démonstration et aux tests" in " ".join(refused.stderr.split())


def test_the_runner_refuses_a_pinned_day_in_production(empty_database: dict[str, str]) -> None:
    env = {**empty_database, "SIAE_TODAY": "2026-10-01", "PREFECT_API_URL": "http://127.0.0.1:9/api"}
    done = subprocess.run(
        [sys.executable, "-m", "flows.runtime.runner"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode != 0
    assert "SIAE_TODAY" in done.stderr and "Traceback" not in done.stderr


def test_a_fault_point_reached_in_production_is_refused_before_anything_happens(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Even in a process that has not read its settings yet: the point reads them, and they refuse."""
    marker = tmp_path / "marqueur"
    # Another point's name: a broken refusal would then do nothing, instead of killing the test process.
    monkeypatch.setenv(faults.VARIABLE, f"courriel:{marker}")
    monkeypatch.setenv("SIAE_MODE", Mode.PRODUCTION.value)
    get_settings.cache_clear()
    try:
        with pytest.raises(ValidationError, match="SIAE_TEST_FAULT est réservée"):
            faults.point("decision")
    finally:
        get_settings.cache_clear()
    assert not marker.exists()


def test_the_modes_accept_the_hooks() -> None:
    for mode in (Mode.DEMO, Mode.TEST):
        settings = Settings(mode=mode, today="2026-10-01", test_fault="decision:/tmp/x")  # type: ignore[arg-type]
        assert not settings.production
    with pytest.raises(ValidationError, match="SIAE_TODAY"):
        Settings(mode=Mode.PRODUCTION, today="2026-10-01")  # type: ignore[arg-type]
