"""The clock tests run on both backends (``session`` of tests/conftest.py) with a real SMTP sink."""

from mailsink import mail_sink, settings

__all__ = ["mail_sink", "settings"]
