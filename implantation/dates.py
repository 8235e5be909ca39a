"""Dates as the people of the process count them: in Paris, in French, by calendar month.

One module, so that « today », « 1er mars », a month later and the days late mean the same thing in a
form, an e-mail, a document and the timeline. The host's clock is in UTC on most servers: a decision
taken at 00:30 in Paris must not be dated the day before, so « today » is always Paris's.
"""

import calendar as _stdlib_calendar
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime

PARIS = ZoneInfo("Europe/Paris")
LOCALE = "fr_FR"


def today() -> date:
    """Today's date in Paris (not the host's time zone)."""
    return datetime.now(PARIS).date()


def add_months(day: date, months: int) -> date:
    """Same day ``months`` later, or the month's last day when it is shorter (31 January + 1 = 28 February)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, _stdlib_calendar.monthrange(year, month)[1]))


def add_years(day: date, years: int) -> date:
    return add_months(day, 12 * years)


def days_late(due: date | None, on: date) -> int:
    """Calendar days past ``due`` on ``on``; 0 when not yet due or with no due date."""
    if due is None:
        return 0
    return max(0, (on - due).days)


def fr_date(value: date | None) -> str:
    """« 15 décembre 2026 », « 1er mars 2027 »; « date non fixée » for a date still unknown."""
    if value is None:
        return "date non fixée"
    text = format_date(value, "d MMMM y", locale=LOCALE)
    return "1er" + text[1:] if value.day == 1 else text


def fr_datetime(value: datetime | date) -> str:
    """« 15 décembre 2026 à 14:30 » in Paris time (naive datetimes are taken as UTC, like the database)."""
    if not isinstance(value, datetime):
        return fr_date(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    local = value.astimezone(PARIS)
    return f"{fr_date(local.date())} à " + format_datetime(local, "HH:mm", locale=LOCALE)
