"""Throwaway PostgreSQL databases: the URL of a created database keeps the admin's server and user."""

import pytest
from postgres_server import DATABASES, require_postgres
from sqlalchemy import text

from implantation.db.session import make_engine
from implantation.db.throwaway import ThrowawayDatabases


@pytest.mark.parametrize(
    ("admin", "expected"),
    [
        (
            "host=127.0.0.1 port=5432 user=postgres dbname=postgres",
            "postgresql://postgres@127.0.0.1:5432/base",
        ),
        ("postgresql://bench@db.local:6543", "postgresql://bench@db.local:6543/base"),
        ("host=db port=5433 user=siae password=p@ss:w/rd", "postgresql://siae:p%40ss%3Aw%2Frd@db:5433/base"),
    ],
)
def test_url_names_the_admins_server_and_user(admin: str, expected: str) -> None:
    assert ThrowawayDatabases(admin).url("base") == expected


def test_url_with_another_driver() -> None:
    assert ThrowawayDatabases("postgresql://postgres@127.0.0.1:5432").url("b", "postgresql+asyncpg") == (
        "postgresql+asyncpg://postgres@127.0.0.1:5432/b"
    )


@pytest.mark.postgres
def test_a_created_database_is_empty_reachable_and_dropped() -> None:
    require_postgres()
    name = DATABASES.create("siae_essai")
    engine = make_engine(DATABASES.url(name))
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT current_database()")).scalar() == name
            tables = conn.execute(text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")).scalar()
            assert tables == 0
    finally:
        engine.dispose()
        DATABASES.drop(name)
    admin = make_engine(DATABASES.url("postgres"))
    with admin.connect() as conn:
        left = conn.execute(text("SELECT count(*) FROM pg_database WHERE datname = :n"), {"n": name}).scalar()
    admin.dispose()
    assert left == 0
