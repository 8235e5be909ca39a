"""``siae demo-base``: a fresh SQLite database and a timeline whose due dates skip French holidays."""

from datetime import datetime
from pathlib import Path

import pytest
import time_machine
from typer.testing import CliRunner

from implantation.cli import app
from implantation.settings import get_settings


def test_demo_prints_a_timeline_with_moved_due_dates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "220")
    monkeypatch.setenv("SIAE_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    try:
        with time_machine.travel(datetime(2026, 11, 23, 9, 0), tick=False):
            first = CliRunner().invoke(app, ["demo-base"])
            again = CliRunner().invoke(app, ["demo-base"])
    finally:
        get_settings.cache_clear()
    assert first.exit_code == 0, first.output
    assert (tmp_path / "data" / "demo-base" / "demo.db").exists()
    out = first.output
    assert "6 établissements, 6 SIAE, 8 contacts" in out
    assert "Centre pénitentiaire de Grenoble-Varces" in out
    assert "04/01/2027" in out and "au lieu du 01/01/2027 : Jour de l'an" in out
    assert "au lieu du 04/07/2027 : dimanche" in out
    assert again.exit_code == 0 and "IMP-2026-0001" in again.output, "la base de démonstration repart de zéro"
