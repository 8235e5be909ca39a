"""A test or demo installation's Prefect database starts as a copy of one Prefect migrated once."""

import sqlite3
import subprocess
from pathlib import Path

import pytest

from flows.harness import prefect_db
from flows.harness.local import free_port, prefect_env


def _head(db: Path) -> str:
    with sqlite3.connect(db) as connection:
        (head,) = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    connection.close()
    return str(head)


def test_a_new_installation_gets_prefects_migrated_database(tmp_path: Path) -> None:
    template = prefect_db.template()
    env = prefect_env(tmp_path / "prefect", free_port())
    db = tmp_path / "prefect" / "prefect.db"
    assert env["PREFECT_API_DATABASE_CONNECTION_URL"].endswith(str(db))
    assert _head(db) == _head(template)
    assert db.read_bytes() == template.read_bytes()
    assert not (tmp_path / "prefect" / "prefect.db.copie").exists()


def test_an_existing_database_is_left_as_it_is(tmp_path: Path) -> None:
    db = tmp_path / "prefect" / "prefect.db"
    db.parent.mkdir()
    db.write_bytes(b"les runs d'hier")
    prefect_env(tmp_path / "prefect", free_port())
    assert db.read_bytes() == b"les runs d'hier"


def test_a_postgresql_installation_is_left_to_prefect(tmp_path: Path) -> None:
    prefect_env(tmp_path / "prefect", free_port(), database_url="postgresql+asyncpg://u@127.0.0.1/p")
    assert not (tmp_path / "prefect" / "prefect.db").exists()


def test_without_a_template_the_server_migrates_as_prefect_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failed() -> Path:
        raise subprocess.CalledProcessError(1, ["prefect", "server", "database", "upgrade"])

    monkeypatch.setattr(prefect_db, "template", failed)
    prefect_env(tmp_path / "prefect", free_port())
    assert not (tmp_path / "prefect" / "prefect.db").exists()
