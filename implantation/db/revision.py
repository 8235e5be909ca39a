"""The schema revision of the code and of a database, read without loading Alembic.

Every command checks that its database is current; Alembic's script loader costs more start-up time than
the whole of a read-only command. The revision files are plain Python with ``revision = "…"`` and
``down_revision = "…"`` lines: the head is the revision that no other one names as its parent.
``tests/db/test_revision.py`` checks that this agrees with Alembic.
"""

import re
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

VERSIONS_DIR = Path(__file__).resolve().parent.parent / "migrations" / "versions"
_REVISION = re.compile(r'^revision(?:\s*:[^=]+)?\s*=\s*["\']([^"\']+)["\']', re.MULTILINE)
_DOWN = re.compile(r"^down_revision(?:\s*:[^=]+)?\s*=\s*(.+)$", re.MULTILINE)


def script_head() -> str | None:
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in VERSIONS_DIR.glob("*.py"):
        source = path.read_text(encoding="utf-8")
        found = _REVISION.search(source)
        if found is None:
            continue
        revisions.add(found.group(1))
        down = _DOWN.search(source)
        if down:
            parents.update(re.findall(r'["\']([^"\']+)["\']', down.group(1)))
    heads = sorted(revisions - parents)
    return heads[0] if len(heads) == 1 else None if not heads else ",".join(heads)


def database_revision(engine: "Engine") -> str | None:
    from sqlalchemy import inspect, text

    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        rows = [row[0] for row in connection.execute(text("SELECT version_num FROM alembic_version"))]
    return ",".join(sorted(rows)) if rows else None
