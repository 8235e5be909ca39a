"""Alembic environment: the target is SQLModel.metadata, the URL comes from the settings or the caller.

A caller (``implantation.db.migrate``) may hand over an open connection in
``config.attributes["connection"]`` so that tests and the CLI migrate the very database they use.
"""

from alembic import context
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

import implantation.db.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from implantation.db.migrate import MIGRATION_OPTIONS
from implantation.db.session import make_engine

config = context.config


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    if url:
        return url
    from implantation.settings import get_settings

    return get_settings().effective_database_url


def run_offline() -> None:
    context.configure(url=_url(), target_metadata=SQLModel.metadata, literal_binds=True, **MIGRATION_OPTIONS)
    with context.begin_transaction():
        context.run_migrations()


def _migrate(connection: Connection) -> None:
    """SQLite alters a table by copying it (batch mode): the copy is dropped and renamed while other tables'
    rows still point at it, which its foreign-key check refuses. Checks are off during the migrations (the
    pragma only takes effect outside a transaction, hence first) and back on after."""
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    try:
        context.configure(connection=connection, target_metadata=SQLModel.metadata, **MIGRATION_OPTIONS)
        with context.begin_transaction():
            context.run_migrations()
    finally:
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _migrate(connection)
        return
    engine = make_engine(_url())
    try:
        with engine.connect() as conn:
            _migrate(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
