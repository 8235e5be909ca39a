"""A PostgreSQL cluster of the test's own, in a temporary folder on a free loopback port.

The tests that stop and restart PostgreSQL must never touch the shared server (5432) that other test
runs use. ``initdb`` and ``pg_ctl`` come from the installed PostgreSQL (``/usr/lib/postgresql/*/bin``);
as root they run as the ``postgres`` user, since PostgreSQL refuses to run as root.
"""

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import pytest

from flows.harness.local import free_port


def _bin_dir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def require_initdb() -> Path:
    """Skip without ``initdb``, except under CI, where the test must run."""
    where = _bin_dir()
    if where is None:
        reason = "initdb absent (/usr/lib/postgresql/*/bin) : pas de cluster PostgreSQL privé possible"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} — en CI (CI=true), ce test doit s'exécuter.")
        pytest.skip(reason)
    return where


class PostgresCommandError(RuntimeError):
    pass


@dataclass
class PrivateCluster:
    bin_dir: Path
    data: Path
    port: int
    as_user: list[str]

    def _run(self, *args: str) -> None:
        done = subprocess.run([*self.as_user, *args], capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise PostgresCommandError(f"« {' '.join(args)} » a échoué : {done.stderr or done.stdout}")

    def url(self, database: str, driver: str = "postgresql+psycopg") -> str:
        return f"{driver}://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.data}"
        log = str(self.data.parent / "postgresql.log")  # not a pipe: the server outlives pg_ctl
        self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-l", log, "-o", options, "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def createdb(self, name: str) -> None:
        self._run(
            str(self.bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name
        )


@contextmanager
def private_cluster() -> Iterator[PrivateCluster]:
    """Started, and stopped and removed on the way out. Its folder is a new one under the system's
    temporary directory: pytest's own is readable by its owner only, and the server runs as ``postgres``."""
    bin_dir = require_initdb()
    folder = Path(tempfile.mkdtemp(prefix="siae-pg-"))
    data = folder / "pgdata"
    data.mkdir()
    as_user: list[str] = []
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        for path in (folder, data):
            os.chown(path, user.pw_uid, user.pw_gid)
        as_user = [shutil.which("runuser") or "runuser", "-u", "postgres", "--"]
    cluster = PrivateCluster(bin_dir, data, free_port(), as_user)
    try:
        cluster._run(str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        cluster.start()
        try:
            yield cluster
        finally:
            with suppress(PostgresCommandError):
                cluster.stop("immediate")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
