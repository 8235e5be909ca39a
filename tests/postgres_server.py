"""The PostgreSQL server the tests use (``SIAE_TEST_POSTGRES``), and what happens when it is missing."""

import os

import psycopg
import pytest

from implantation.db.throwaway import ThrowawayDatabases

PG_ADMIN = os.environ.get("SIAE_TEST_POSTGRES", "host=127.0.0.1 port=5432 user=postgres dbname=postgres")
DATABASES = ThrowawayDatabases(PG_ADMIN)


def require_postgres() -> None:
    """Skip without a server, except under CI, where the PostgreSQL tests must run."""
    try:
        with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        reason = f"PostgreSQL injoignable ({PG_ADMIN}) : {str(exc).strip().splitlines()[0]}"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} — en CI (CI=true), les tests PostgreSQL doivent s'exécuter.")
        pytest.skip(reason)
