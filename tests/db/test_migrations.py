"""The migrations create exactly the schema the models describe, on SQLite and PostgreSQL."""

from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

from implantation.db.migrate import (
    MIGRATION_OPTIONS,
    VERSIONS_DIR,
    current_revision,
    downgrade,
    head_revision,
    schema_diff,
    upgrade,
    upgrade_to_head,
)
from implantation.db.session import make_engine


def test_migrated_schema_matches_models(fresh_url: str) -> None:
    upgrade_to_head(fresh_url)
    engine = make_engine(fresh_url)
    try:
        assert current_revision(engine) == head_revision()
        assert schema_diff(engine) == []
        tables = set(inspect(engine).get_table_names())
        assert {t.name for t in SQLModel.metadata.sorted_tables} | {"alembic_version"} == tables
    finally:
        engine.dispose()


def test_comparison_detects_drift(fresh_url: str) -> None:
    """A column present in the models but in no migration is reported: the check above can fail."""
    engine = make_engine(fresh_url)
    upgrade(engine)
    drifted = sa.MetaData()
    for table in SQLModel.metadata.sorted_tables:
        table.to_metadata(drifted)
    drifted.tables["siae"].append_column(sa.Column("colonne_sans_migration", sa.String(10)))
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts=MIGRATION_OPTIONS), drifted)
    engine.dispose()
    assert [d[0] for d in diff] == ["add_column"]
    assert diff[0][3].name == "colonne_sans_migration"


def test_downgrade_then_upgrade_again(fresh_url: str) -> None:
    engine = make_engine(fresh_url)
    try:
        upgrade(engine)
        downgrade(engine, "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        assert current_revision(engine) is None
        upgrade(engine)
        assert schema_diff(engine) == []
    finally:
        engine.dispose()


def test_upgrade_is_idempotent(fresh_url: str) -> None:
    upgrade_to_head(fresh_url)
    upgrade_to_head(fresh_url)
    engine = make_engine(fresh_url)
    assert current_revision(engine) == head_revision()
    engine.dispose()


def test_revisions_do_not_import_application_code() -> None:
    """Old revisions must keep working when application types change."""
    files = sorted(Path(VERSIONS_DIR).glob("*.py"))
    assert files, "aucune révision Alembic"
    for path in files:
        source = path.read_text(encoding="utf-8")
        imports = [line for line in source.splitlines() if line.startswith(("import ", "from "))]
        assert all("implantation" not in line and "sqlmodel" not in line for line in imports), path.name
        assert "Create Date" not in source, "révision non déterministe"
