"""Dates as the process counts them: Paris's today, French wording, calendar months, days late."""

from datetime import UTC, date, datetime

import pytest
import time_machine

from implantation.dates import add_months, add_years, days_late, fr_date, fr_datetime, today


def test_french_dates() -> None:
    assert fr_date(date(2026, 12, 15)) == "15 décembre 2026"
    assert fr_date(date(2027, 3, 1)) == "1er mars 2027"
    assert fr_date(date(2026, 8, 20)) == "20 août 2026"
    assert fr_date(None) == "date non fixée"
    assert fr_datetime(datetime(2026, 12, 15, 13, 5, tzinfo=UTC)) == "15 décembre 2026 à 14:05"  # winter
    assert fr_datetime(datetime(2026, 7, 1, 22, 30, tzinfo=UTC)) == "2 juillet 2026 à 00:30"  # summer
    assert fr_datetime(datetime(2026, 7, 1, 22, 30)) == "2 juillet 2026 à 00:30"  # naive is UTC
    assert fr_datetime(date(2027, 3, 1)) == "1er mars 2027"


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2027, 1, 31), 1, date(2027, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),
        (date(2027, 11, 15), 3, date(2028, 2, 15)),
        (date(2027, 3, 31), -1, date(2027, 2, 28)),
        (date(2027, 1, 15), 12, date(2028, 1, 15)),
        (date(2027, 1, 15), 0, date(2027, 1, 15)),
    ],
)
def test_add_months(day: date, months: int, expected: date) -> None:
    assert add_months(day, months) == expected


def test_add_years_from_a_leap_day() -> None:
    assert add_years(date(2028, 2, 29), 1) == date(2029, 2, 28)
    assert add_years(date(2026, 12, 1), 7) == date(2033, 12, 1)


@pytest.mark.parametrize(
    ("due", "on", "expected"),
    [
        (date(2027, 1, 4), date(2027, 1, 11), 7),
        (date(2027, 1, 4), date(2027, 1, 4), 0),
        (None, date(2027, 1, 4), 0),
    ],
)
def test_days_late(due: date | None, on: date, expected: int) -> None:
    assert days_late(due, on) == expected
    assert days_late(date(2027, 1, 4), date(2027, 1, 1)) == 0


def test_today_is_paris_today_on_a_utc_host() -> None:
    """At 23:30 UTC on 31 December it is already 1 January in Paris: a decision is dated 1 January."""
    with time_machine.travel(datetime(2026, 12, 31, 23, 30, tzinfo=UTC), tick=False):
        assert today() == date(2027, 1, 1)
    with time_machine.travel(datetime(2027, 6, 30, 21, 59, tzinfo=UTC), tick=False):  # 23:59 in summer
        assert today() == date(2027, 6, 30)
