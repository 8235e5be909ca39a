"""Alembic migrations of the application schema (SQLite and PostgreSQL)."""
