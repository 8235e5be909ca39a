"""Public holidays per département and the working-day arithmetic built on them."""

from datetime import date

import pytest

from implantation.calendar import (
    add_working_days,
    holiday_subdivision,
    is_working_day,
    next_working_day,
    public_holiday,
    reminder_date,
    stage_due_date,
)
from implantation.config.schema import ProcessConfig

GOOD_FRIDAY_2027 = date(2027, 3, 26)
SAINT_STEPHEN_2028 = date(2028, 12, 26)  # a Tuesday


@pytest.mark.parametrize(
    ("departement", "expected"),
    [("75", None), ("2A", None), ("57", "57"), ("67", "6AE"), ("68", "6AE"), ("971", "971"), ("974", "974")],
)
def test_holiday_subdivision(departement: str, expected: str | None) -> None:
    assert holiday_subdivision(departement) == expected


@pytest.mark.parametrize("departement", ["57", "67", "68"])
def test_alsace_moselle_has_good_friday_and_saint_stephen(departement: str) -> None:
    assert public_holiday(GOOD_FRIDAY_2027, departement) == "Vendredi saint"
    assert public_holiday(date(2027, 12, 26), departement) == "Saint-Étienne"
    assert public_holiday(SAINT_STEPHEN_2028, departement) == "Saint-Étienne"
    assert not is_working_day(GOOD_FRIDAY_2027, departement)
    assert not is_working_day(SAINT_STEPHEN_2028, departement)


@pytest.mark.parametrize("departement", ["75", "54", "13", "2B"])
def test_elsewhere_in_mainland_they_are_worked(departement: str) -> None:
    assert public_holiday(GOOD_FRIDAY_2027, departement) is None
    assert public_holiday(SAINT_STEPHEN_2028, departement) is None
    assert is_working_day(GOOD_FRIDAY_2027, departement)
    assert is_working_day(SAINT_STEPHEN_2028, departement)


@pytest.mark.parametrize(
    ("day", "name"),
    [
        (date(2027, 1, 1), "Jour de l'an"),
        (date(2027, 3, 29), "Lundi de Pâques"),
        (date(2027, 5, 6), "Ascension"),
        (date(2027, 5, 17), "Lundi de Pentecôte"),
        (date(2027, 7, 14), "Fête nationale"),
        (date(2027, 11, 11), "Armistice"),
        (date(2027, 12, 25), "Noël"),
    ],
)
def test_national_holidays_are_named_in_french(day: date, name: str) -> None:
    assert public_holiday(day, "75") == name
    assert public_holiday(day, "57") == name
    assert public_holiday(day, "974") == name


@pytest.mark.parametrize(
    ("departement", "day"),
    [
        ("971", date(2027, 5, 27)),
        ("972", date(2027, 5, 22)),
        ("973", date(2027, 6, 10)),
        ("974", date(2027, 12, 20)),
        ("976", date(2027, 4, 27)),
    ],
)
def test_overseas_abolition_of_slavery(departement: str, day: date) -> None:
    assert public_holiday(day, departement) == "Abolition de l'esclavage"
    assert public_holiday(day, "75") is None
    others = {"971", "972", "973", "974", "976"} - {departement}
    assert all(public_holiday(day, other) != "Abolition de l'esclavage" for other in others)


def test_weekends_are_not_worked_even_without_holiday() -> None:
    assert not is_working_day(date(2027, 9, 18), "75")  # Saturday
    assert not is_working_day(date(2027, 9, 19), "75")  # Sunday
    assert is_working_day(date(2027, 9, 20), "75")


@pytest.mark.parametrize(
    ("departement", "expected"),
    [("75", date(2027, 12, 20)), ("57", date(2027, 12, 20)), ("974", date(2027, 12, 21))],
)
def test_next_working_day(departement: str, expected: date) -> None:
    assert next_working_day(date(2027, 12, 20), departement) == expected


def test_next_working_day_skips_a_long_weekend() -> None:
    # Sat 25 Dec 2027, Sun 26, then Monday 27 is worked everywhere.
    assert next_working_day(date(2027, 12, 25), "67") == date(2027, 12, 27)
    # Fri 31 Dec 2027 is worked; Sat 1 Jan 2028 is a holiday and a weekend: Monday 3 Jan.
    assert next_working_day(date(2027, 12, 31), "75") == date(2027, 12, 31)
    assert next_working_day(date(2028, 1, 1), "75") == date(2028, 1, 3)


@pytest.mark.parametrize(
    ("departement", "expected"),
    [("75", date(2028, 12, 26)), ("57", date(2028, 12, 27)), ("67", date(2028, 12, 27))],
)
def test_add_working_days_over_christmas(departement: str, expected: date) -> None:
    # Friday 22 Dec 2028 + 1 worked day: Monday 25 is Noël; Tuesday 26 only in Alsace-Moselle.
    assert add_working_days(date(2028, 12, 22), 1, departement) == expected


@pytest.mark.parametrize(("departement", "expected"), [("75", date(2026, 5, 22)), ("972", date(2026, 5, 26))])
def test_add_working_days_in_martinique(departement: str, expected: date) -> None:
    # 22 May 2026 is a Friday (abolition in Martinique), then a weekend and Lundi de Pentecôte.
    assert add_working_days(date(2026, 5, 21), 1, departement) == expected


def test_add_working_days_counts_many_days() -> None:
    # Mon 3 May 2027 + 10 worked days in Paris: Ascension (Thu 6) and Pentecost Monday (17) are skipped.
    assert add_working_days(date(2027, 5, 3), 10, "75") == date(2027, 5, 19)


def test_add_working_days_backwards() -> None:
    assert add_working_days(date(2027, 3, 31), -10, "75") == date(2027, 3, 16)
    assert add_working_days(date(2027, 3, 31), -10, "57") == date(2027, 3, 15)


def test_add_zero_working_days_is_the_same_day() -> None:
    assert add_working_days(date(2027, 9, 18), 0, "75") == date(2027, 9, 18)


@pytest.mark.parametrize(
    ("departement", "expected"),
    # 26 Jan + 2 months = Good Friday 26 Mar 2027; in Alsace-Moselle and Guadeloupe the due date moves past
    # the weekend and Easter Monday.
    [
        ("75", date(2027, 3, 26)),
        ("974", date(2027, 3, 26)),
        ("57", date(2027, 3, 30)),
        ("971", date(2027, 3, 30)),
    ],
)
def test_stage_due_date_per_departement(departement: str, expected: date) -> None:
    assert stage_due_date(date(2027, 1, 26), 2, departement) == expected


def test_stage_due_date_moves_off_new_year() -> None:
    assert stage_due_date(date(2027, 10, 1), 3, "75") == date(2028, 1, 3)


def test_stage_due_date_uses_the_configured_upper_duration(cfg: ProcessConfig) -> None:
    stage_one = cfg.stage(1)
    assert stage_one.duree_mois.max == 3
    assert stage_due_date(date(2027, 9, 14), stage_one.duree_mois.max, "75") == date(2027, 12, 14)


def test_reminder_date_is_ten_working_days_before(cfg: ProcessConfig) -> None:
    assert cfg.calendar.rappel_jours_ouvres_avant_echeance == 10
    # Tue 18 May 2027 in Paris: back over Pentecost Monday and Ascension to Friday 30 April.
    assert reminder_date(date(2027, 5, 18), cfg.calendar, "75") == date(2027, 4, 30)
    assert reminder_date(date(2027, 3, 31), cfg.calendar, "57") == date(2027, 3, 15)
