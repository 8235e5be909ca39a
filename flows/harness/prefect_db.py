"""A new SQLite database for a test or demo Prefect server, copied from one that Prefect migrated once.

Why: Prefect's server migrates an empty database at its first start, about 8 s of CPU on this machine
(``prefect server database upgrade`` on an empty file: 11.5 s of CPU, 3.5 s of it the command's
start-up), and the test suite starts a new installation dozens of times. The copy is Prefect's own
migration, run by Prefect's own command, once per Prefect release and machine; the server still
checks, at its start, that the copy is at Prefect's head. Only the harness does this (tests, demo,
benchmarks): production migrates its one database itself, and a PostgreSQL database is left to Prefect.
"""

import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from importlib.metadata import version
from pathlib import Path


def template() -> Path:
    """The migrated database of the installed Prefect, made once (by whichever process asks first)."""
    path = Path(tempfile.gettempdir()) / f"siae-prefect-{version('prefect')}-{os.getuid()}.db"
    if path.exists():
        return path
    work = Path(tempfile.mkdtemp(prefix="siae-prefect-migration-"))
    try:
        db = work / "prefect.db"
        env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
        env |= {"PREFECT_HOME": str(work), "PREFECT_API_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{db}"}
        subprocess.run(
            [sys.executable, "-m", "prefect", "server", "database", "upgrade", "-y"],
            env=env,
            check=True,
            capture_output=True,
        )
        # One self-contained file: the write-ahead log folded in, which Prefect's set-up turns back on.
        with sqlite3.connect(db) as connection:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            connection.execute("PRAGMA journal_mode = DELETE")
        connection.close()
        os.replace(db, path)  # atomic: a process asking at the same time copies a whole file or makes its own
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return path


def seed(db: Path) -> None:
    """``db`` created as a copy of :func:`template`, unless it exists (a server restarted on its data)."""
    if db.exists():
        return
    try:
        source = template()
    except subprocess.CalledProcessError:
        return  # the server migrates the empty database itself at its start, as Prefect always does
    partial = db.with_name(db.name + ".copie")
    shutil.copyfile(source, partial)
    os.replace(partial, db)
