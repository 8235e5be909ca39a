"""Empty PostgreSQL databases that a test session or a benchmark creates for itself and drops after.

A run that reused a database would meet the rows of the previous one: project ids, and the Prefect run
names derived from them, would collide. Names are random, so concurrent runs never share one.
"""

import uuid
from urllib.parse import quote

import psycopg
from psycopg.conninfo import conninfo_to_dict


class ThrowawayDatabases:
    """``admin``: how to reach the server (libpq key=value string or ``postgresql://`` URL); databases
    are created and dropped from that connection."""

    def __init__(self, admin: str, connect_timeout: int = 3) -> None:
        self.admin = admin
        self.connect_timeout = connect_timeout

    def _connect(self) -> psycopg.Connection:
        return psycopg.connect(self.admin, autocommit=True, connect_timeout=self.connect_timeout)

    def create(self, prefix: str) -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        with self._connect() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return name

    def url(self, name: str, driver: str = "postgresql") -> str:
        params = conninfo_to_dict(self.admin)
        user = quote(str(params.get("user", "postgres")), safe="")
        password = params.get("password")
        credentials = f"{user}:{quote(str(password), safe='')}" if password else user
        host, port = params.get("host", "127.0.0.1"), params.get("port", "5432")
        return f"{driver}://{credentials}@{host}:{port}/{name}"

    def drop(self, *names: str) -> None:
        with self._connect() as conn:
            for name in names:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
