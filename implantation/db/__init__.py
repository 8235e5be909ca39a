"""Persistence: SQLModel tables, engine and sessions (SQLite by default, PostgreSQL in production)."""
