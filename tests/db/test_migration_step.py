"""Upgrading the schema is one explicit command, under a lock; a runner refuses an older schema.

Several machines started together used to upgrade at once and race on Alembic's own table. Here several
``siae migrer`` processes start at the same moment on an empty database, on SQLite and on PostgreSQL.
"""

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import text

from flows.runtime.launcher import schema_refusal
from implantation.db.migrate import upgrade
from implantation.db.revision import script_head
from implantation.db.session import make_engine

SIAE = Path(sys.executable).parent / "siae"
RACERS = 4


def _environment(url: str, data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIAE_")}
    env.update(SIAE_DATABASE_URL=url, SIAE_DATA_DIR=str(data_dir))
    return env


def test_machines_migrating_together_do_not_race(fresh_url: str, tmp_path: Path) -> None:
    env = _environment(fresh_url, tmp_path)
    racers = [
        subprocess.Popen(
            [str(SIAE), "migrer"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        for _ in range(RACERS)
    ]
    outputs = [racer.communicate(timeout=300)[0] for racer in racers]
    assert [racer.returncode for racer in racers] == [0] * RACERS, outputs
    assert all("Base de données à jour" in output for output in outputs)
    engine = make_engine(fresh_url)
    try:
        with engine.connect() as connection:
            versions = connection.execute(text("SELECT version_num FROM alembic_version")).all()
        assert [row[0] for row in versions] == [script_head()]
    finally:
        engine.dispose()


def test_a_runner_refuses_an_older_schema_and_names_the_command(fresh_url: str, tmp_path: Path) -> None:
    assert "pas initialisée" in (schema_refusal(fresh_url) or "")
    engine = make_engine(fresh_url)
    try:
        upgrade(engine, "0008")
    finally:
        engine.dispose()
    refusal = schema_refusal(fresh_url)
    assert refusal is not None and "révision 0008" in refusal and "« siae migrer »" in refusal
    env = _environment(fresh_url, tmp_path)
    runner = subprocess.run(
        [sys.executable, "-m", "flows.runtime.runner"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert runner.returncode == 2 and "siae migrer" in runner.stderr, runner.stderr
    assert subprocess.run([str(SIAE), "migrer"], env=env, check=False, timeout=300).returncode == 0
    assert schema_refusal(fresh_url) is None
