"""Programmatic Alembic: upgrade a database, check it is current, and (for developers) write revisions.

Upgrading is one explicit step (``siae migrer``), never a side effect of starting a runner, and it holds a
lock while it runs, so that two machines upgrading together cannot race (:func:`migration_lock`).

Migrations render every column type as plain SQLAlchemy types, so a revision never imports
application code that may later change (StrEnumType and SQLModel's AutoString become ``sa.String``).
"""

import argparse
import fcntl
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import String, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.types import TypeDecorator

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
VERSIONS_DIR = MIGRATIONS_DIR / "versions"
INITIAL_REVISION = "0001"


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    if type_ == "type" and isinstance(obj, TypeDecorator) and isinstance(obj.impl, String):
        length = obj.impl.length
        return f"sa.String(length={length})" if length else "sa.String()"
    return False


MIGRATION_OPTIONS: dict[str, Any] = {
    "render_as_batch": True,  # SQLite cannot ALTER most things; batch mode copies the table instead.
    "compare_type": True,
    "render_item": render_item,
}


def alembic_config(url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("path_separator", "os")
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


# PostgreSQL advisory lock key of the schema upgrades (any constant the application uses for nothing else).
ADVISORY_LOCK_KEY = 0x51AE_0001


@contextmanager
def migration_lock(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction that only one upgrade at a time holds, whichever machine runs it.

    PostgreSQL: a transaction-level advisory lock, released with the upgrade's commit or rollback; the
    upgrade that waited then reads the revision the first one committed and has nothing left to do.
    SQLite (one machine): an exclusive ``flock`` on a file beside the database, taken before any connection
    opens, since opening one already writes (the WAL journal mode) and would meet the running upgrade.
    """
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
            yield connection
        return
    with open(f"{database}.migration.lock", "a+b") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            with engine.begin() as connection:
                yield connection
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def upgrade(engine: Engine, revision: str = "head") -> None:
    cfg = alembic_config()
    with migration_lock(engine) as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)


def downgrade(engine: Engine, revision: str = "base") -> None:
    cfg = alembic_config()
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, revision)


def upgrade_to_head(url: str) -> None:
    """Create or upgrade the schema of the database at ``url``."""
    from implantation.db.session import make_engine

    engine = make_engine(url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def schema_diff(engine: Engine) -> list[Any]:
    """Differences between the live schema and the models (empty when the migrations are complete)."""
    from sqlmodel import SQLModel

    import implantation.db.models  # noqa: F401

    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts=MIGRATION_OPTIONS)
        return list(compare_metadata(context, SQLModel.metadata))


def _autogenerate(message: str, rev_id: str) -> None:
    from implantation.db.session import make_engine

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'reference.db'}"
        engine = make_engine(url)
        try:
            upgrade(engine)
            cfg = alembic_config()
            with engine.begin() as connection:
                cfg.attributes["connection"] = connection
                command.revision(cfg, message=message, autogenerate=True, rev_id=rev_id)
        finally:
            engine.dispose()


def new_revision(message: str) -> None:
    """Autogenerate the next revision against a scratch SQLite database at head."""
    head = head_revision()
    next_id = f"{int(head) + 1:04d}" if head and head.isdigit() else INITIAL_REVISION
    _autogenerate(message, next_id)


def regenerate_initial() -> None:
    """Rewrite the single initial revision from the models; deterministic, for use before a first release."""
    for path in VERSIONS_DIR.glob("*.py"):
        path.unlink()
    shutil.rmtree(VERSIONS_DIR / "__pycache__", ignore_errors=True)
    _autogenerate("initial schema", INITIAL_REVISION)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m implantation.db.migrate")
    sub = parser.add_subparsers(dest="action", required=True)
    rev = sub.add_parser("revision", help="nouvelle révision autogénérée")
    rev.add_argument("-m", "--message", required=True)
    sub.add_parser("initial", help="régénère la révision initiale unique")
    up = sub.add_parser("upgrade", help="met à jour la base à la dernière révision")
    up.add_argument("url", nargs="?")
    args = parser.parse_args(argv)
    if args.action == "revision":
        new_revision(args.message)
    elif args.action == "initial":
        regenerate_initial()
    else:
        from implantation.settings import get_settings

        upgrade_to_head(args.url or get_settings().effective_database_url)


if __name__ == "__main__":
    main()
