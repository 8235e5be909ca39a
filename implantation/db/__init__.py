"""Persistence: SQLModel tables, engine and sessions (SQLite by default, PostgreSQL in production)."""

# Every session, whoever opens it, chains the journal rows it writes.
from implantation.db import journal as _journal  # noqa: F401
