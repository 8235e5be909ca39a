"""Launch-date verdicts (guide: start outside leave periods) and the minimum-duration warning."""

from datetime import date

import pytest

from implantation.calendar import launch_date_problems, minimum_duration_warning
from implantation.config.schema import CalendarFile, LeavePeriod, ProcessConfig, Range, StagesFile


def test_an_ordinary_tuesday_is_accepted(cfg: ProcessConfig) -> None:
    assert launch_date_problems(date(2027, 9, 14), "75", cfg.calendar, "C") == []
    assert launch_date_problems(date(2027, 9, 14), "57", cfg.calendar, "B") == []


@pytest.mark.parametrize("day", [date(2027, 7, 1), date(2027, 8, 2), date(2027, 8, 31)])
def test_summer_is_refused(cfg: ProcessConfig, day: date) -> None:
    assert launch_date_problems(day, "75", cfg.calendar, "C") == [
        f"le {day:%d/%m/%Y} est dans la période « Congés d'été (juillet-août) »"
    ]


def test_the_days_around_summer_are_accepted(cfg: ProcessConfig) -> None:
    assert launch_date_problems(date(2027, 6, 30), "75", cfg.calendar, "C") == []
    assert launch_date_problems(date(2027, 9, 1), "75", cfg.calendar, "C") == []


@pytest.mark.parametrize("zone", ["A", "B", "C", None])
def test_christmas_holidays_are_refused_in_every_zone(cfg: ProcessConfig, zone: str | None) -> None:
    assert launch_date_problems(date(2027, 12, 24), "75", cfg.calendar, zone) == [
        "le 24/12/2027 est dans la période « Vacances de Noël »"
    ]


def test_christmas_holidays_bounds_2027(cfg: ProcessConfig) -> None:
    # School holidays run from Saturday 18 Dec 2027 to Sunday 2 Jan 2028.
    assert launch_date_problems(date(2027, 12, 17), "75", cfg.calendar, "C") == []
    assert launch_date_problems(date(2027, 12, 20), "75", cfg.calendar, "C") == [
        "le 20/12/2027 est dans la période « Vacances de Noël »"
    ]
    assert launch_date_problems(date(2027, 12, 31), "75", cfg.calendar, "C") == [
        "le 31/12/2027 est dans la période « Vacances de Noël »"
    ]
    assert launch_date_problems(date(2028, 1, 3), "75", cfg.calendar, "C") == []


def test_christmas_overseas_and_corsica_use_zone_a(cfg: ProcessConfig) -> None:
    problems = launch_date_problems(date(2027, 12, 20), "974", cfg.calendar, None)
    assert problems == [
        "le 20/12/2027 est un jour férié (Abolition de l'esclavage)",
        "le 20/12/2027 est dans la période « Vacances de Noël »",
    ]


def test_a_public_holiday_is_refused_with_its_name(cfg: ProcessConfig) -> None:
    assert launch_date_problems(date(2027, 11, 11), "75", cfg.calendar, "C") == [
        "le 11/11/2027 est un jour férié (Armistice)"
    ]


def test_good_friday_is_refused_only_in_alsace_moselle(cfg: ProcessConfig) -> None:
    assert launch_date_problems(date(2027, 3, 26), "67", cfg.calendar, "B") == [
        "le 26/03/2027 est un jour férié (Vendredi saint)"
    ]
    assert launch_date_problems(date(2027, 3, 26), "75", cfg.calendar, "C") == []


def test_a_weekend_is_refused(cfg: ProcessConfig) -> None:
    assert launch_date_problems(date(2027, 9, 18), "75", cfg.calendar, "C") == [
        "le 18/09/2027 tombe un week-end"
    ]


def test_every_reason_is_reported(cfg: ProcessConfig) -> None:
    # Wednesday 14 July: national holiday and summer leave.
    assert launch_date_problems(date(2027, 7, 14), "75", cfg.calendar, "C") == [
        "le 14/07/2027 est un jour férié (Fête nationale)",
        "le 14/07/2027 est dans la période « Congés d'été (juillet-août) »",
    ]
    # Saturday 25 December: weekend, Noël and the Christmas holidays.
    assert launch_date_problems(date(2027, 12, 25), "75", cfg.calendar, "C") == [
        "le 25/12/2027 tombe un week-end",
        "le 25/12/2027 est un jour férié (Noël)",
        "le 25/12/2027 est dans la période « Vacances de Noël »",
    ]


@pytest.mark.parametrize("day", [date(2029, 9, 11), date(2028, 9, 12), date(2028, 12, 20)])
def test_beyond_the_school_holiday_data_is_one_more_problem(cfg: ProcessConfig, day: date) -> None:
    # vacances-scolaires-france stops after the summer of 2028: later days cannot be checked.
    assert launch_date_problems(day, "75", cfg.calendar, "C") == [
        "les dates de vacances scolaires ne sont connues que jusqu'au 31/08/2028 : "
        f"impossible de vérifier la date de lancement du {day:%d/%m/%Y}"
    ]


def test_missing_calendar_data_keeps_every_problem_already_found(cfg: ProcessConfig) -> None:
    """In August 2029 the summer refusal (a fixed period) and the weekend are still reported."""
    problems = launch_date_problems(date(2029, 8, 4), "75", cfg.calendar, "C")
    assert problems == [
        "le 04/08/2029 tombe un week-end",
        "le 04/08/2029 est dans la période « Congés d'été (juillet-août) »",
        "les dates de vacances scolaires ne sont connues que jusqu'au 31/08/2028 : "
        "impossible de vérifier la date de lancement du 04/08/2029",
    ]


def test_the_last_known_school_day_is_still_checked(cfg: ProcessConfig) -> None:
    assert launch_date_problems(date(2028, 6, 13), "75", cfg.calendar, "C") == []
    assert launch_date_problems(date(2028, 8, 31), "75", cfg.calendar, "C") == [
        "le 31/08/2028 est dans la période « Congés d'été (juillet-août) »"
    ]


def test_a_fixed_period_may_span_the_new_year(cfg: ProcessConfig) -> None:
    calendar_cfg = CalendarFile(
        periodes_a_eviter_pour_lancement=[
            LeavePeriod(nom="Fin d'année", debut_mois_jour="12-20", fin_mois_jour="01-05")
        ],
        source_periodes="test",
        rappel_jours_ouvres_avant_echeance=10,
        relance_intervalle_jours=7,
    )
    assert launch_date_problems(date(2029, 12, 20), "75", calendar_cfg, "C") == [
        "le 20/12/2029 est dans la période « Fin d'année »"
    ]
    assert launch_date_problems(date(2030, 1, 4), "75", calendar_cfg, "C") == [
        "le 04/01/2030 est dans la période « Fin d'année »"
    ]
    assert launch_date_problems(date(2029, 12, 19), "75", calendar_cfg, "C") == []
    assert launch_date_problems(date(2030, 1, 7), "75", calendar_cfg, "C") == []


def test_minimum_duration_is_taken_from_the_config(cfg: ProcessConfig) -> None:
    assert cfg.stages.duree_minimale_projet_mois == Range(min=6, max=8)


def test_minimum_duration_warning_when_too_short(cfg: ProcessConfig) -> None:
    warning = minimum_duration_warning(date(2027, 1, 15), date(2027, 7, 14), cfg.stages)
    assert warning == (
        "Attention : 180 jours seulement entre le lancement du projet (15/01/2027) et la contractualisation "
        "(14/07/2027) ; le guide recommande au moins 6 mois."
    )


def test_no_warning_from_six_months(cfg: ProcessConfig) -> None:
    assert minimum_duration_warning(date(2027, 1, 15), date(2027, 7, 15), cfg.stages) is None
    assert minimum_duration_warning(date(2027, 1, 15), date(2027, 10, 1), cfg.stages) is None


def test_minimum_duration_follows_a_changed_config(cfg: ProcessConfig) -> None:
    stages = StagesFile.model_validate(
        cfg.stages.model_dump() | {"duree_minimale_projet_mois": {"min": 8, "max": 10}}
    )
    warning = minimum_duration_warning(date(2027, 1, 15), date(2027, 7, 15), stages)
    assert warning is not None
    assert warning.endswith("au moins 8 mois.")
