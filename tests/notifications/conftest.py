"""Fixtures shared with the other mail tests live in tests/mailsink.py (a real SMTP server, a small world)."""

import sys
from pathlib import Path

_TESTS_DIR = str(Path(__file__).resolve().parents[1])
if _TESTS_DIR not in sys.path:
    sys.path.insert(0, _TESTS_DIR)

from mailsink import (  # noqa: E402
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
