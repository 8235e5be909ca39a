"""Fixtures shared with the other mail tests live in tests/mailsink.py (a real SMTP server, a small world)."""

from mailsink import (
    cfg,
    db_url,
    dead_settings,
    engine,
    mail_sink,
    session,
    settings,
    world,
)

__all__ = ["cfg", "db_url", "dead_settings", "engine", "mail_sink", "session", "settings", "world"]
