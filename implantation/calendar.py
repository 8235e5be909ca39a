"""The one place that turns dates into due dates, working days and launch verdicts.

Holidays depend on the establishment's département: Alsace-Moselle has two more days and each
overseas département has its own (abolition of slavery, etc.), so a calendar is always asked for
a département, never for "France" in general.

The holiday and school-holiday packages are imported when first needed: they take a large part of the
command line's start-up, and most commands never compute a date.
"""

from datetime import date, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from implantation.dates import add_months

if TYPE_CHECKING:
    from implantation.config.schema import CalendarFile, StagesFile

ALSACE = {"67", "68"}
OVERSEAS = {"971", "972", "973", "974", "976"}


def holiday_subdivision(departement: str) -> str | None:
    """Map an INSEE département code to the subdivision the `holidays` package expects."""
    if departement == "57":
        return "57"
    if departement in ALSACE:
        return "6AE"
    if departement in OVERSEAS:
        return departement
    return None


def _holidays(departement: str) -> Any:
    return _holidays_of(holiday_subdivision(departement))


@lru_cache(maxsize=16)
def _holidays_of(subdivision: str | None) -> Any:
    """Cached per subdivision (a handful), not per département: the national overview spans them all."""
    import holidays

    return holidays.France(subdiv=subdivision, language="fr")


def public_holiday(day: date, departement: str) -> str | None:
    """Name of the public holiday on that day in that département, in French, or None."""
    return _holidays(departement).get(day)


def is_working_day(day: date, departement: str) -> bool:
    return day.weekday() < 5 and public_holiday(day, departement) is None


def next_working_day(day: date, departement: str) -> date:
    """The day itself if worked, otherwise the first worked day after it."""
    while not is_working_day(day, departement):
        day += timedelta(days=1)
    return day


def add_working_days(day: date, count: int, departement: str) -> date:
    step = 1 if count >= 0 else -1
    remaining = abs(count)
    while remaining:
        day += timedelta(days=step)
        if is_working_day(day, departement):
            remaining -= 1
    return day


def working_days_between(start: date, end: date, departement: str) -> int:
    """Working days ``d`` with ``start < d <= end`` (0 when ``end <= start``), without walking day by day.

    The overview computes it for every late project: weekdays by arithmetic, then the département's
    holidays that fall on a weekday in the span.
    """
    if end <= start:
        return 0
    span = (end - start).days
    weeks, rest = divmod(span, 7)
    weekdays = weeks * 5 + sum(1 for i in range(1, rest + 1) if (start + timedelta(days=i)).weekday() < 5)
    calendar = _holidays(departement)
    for year in range(start.year, end.year + 1):
        calendar.get(date(year, 1, 1))  # loads that year's holidays
    off = sum(1 for day in calendar if start < day <= end and day.weekday() < 5)
    return weekdays - off


def stage_due_date(opened_on: date, max_months: int, departement: str) -> date:
    """Due date of a stage: the guide's upper duration, moved forward to a worked day."""
    return next_working_day(add_months(opened_on, max_months), departement)


def reminder_date(due_on: date, calendar_cfg: "CalendarFile", departement: str) -> date:
    return add_working_days(due_on, -calendar_cfg.rappel_jours_ouvres_avant_echeance, departement)


@lru_cache(maxsize=1)
def school_holidays() -> tuple[Any, date]:
    """The school-holiday data and its last day.

    The package holds whole years but stops after the last summer holidays it knows (e.g. 31/08/2028):
    a later day of that same year would silently look like a school day.
    """
    from vacances_scolaires_france import SchoolHolidayDates

    data = SchoolHolidayDates()
    return data, max(data.data)


def _school_holiday_name(day: date, zone: str) -> str | None:
    from vacances_scolaires_france import UnsupportedYearException

    school, data_end = school_holidays()
    if day > data_end:
        raise ValueError(
            f"Les dates de vacances scolaires ne sont connues que jusqu'au {data_end:%d/%m/%Y} : "
            f"impossible de vérifier la date de lancement du {day:%d/%m/%Y}."
        )
    try:
        info = school.holidays_for_year_and_zone(day.year, zone).get(day)
    except UnsupportedYearException:
        raise ValueError(
            f"Les dates de vacances scolaires de {day.year} ne sont pas encore connues : "
            "impossible de vérifier la date de lancement."
        ) from None
    return info["nom_vacances"] if info else None


def _in_yearly_period(day: date, start: str, end: str) -> bool:
    """``MM-DD`` bounds, inclusive; a period such as 12-20 → 01-05 spans the new year."""
    month_day = f"{day:%m-%d}"
    if start <= end:
        return start <= month_day <= end
    return month_day >= start or month_day <= end


def launch_date_problems(
    day: date, departement: str, calendar_cfg: "CalendarFile", school_zone: str | None
) -> list[str]:
    """Every reason why an activity may not start that day (empty list: allowed).

    The guide asks for a start outside leave periods so that key people are present.
    """
    problems: list[str] = []
    if day.weekday() >= 5:
        problems.append(f"le {day:%d/%m/%Y} tombe un week-end")
    holiday = public_holiday(day, departement)
    if holiday:
        problems.append(f"le {day:%d/%m/%Y} est un jour férié ({holiday})")
    for period in calendar_cfg.periodes_a_eviter_pour_lancement:
        if period.debut_mois_jour and period.fin_mois_jour:
            if _in_yearly_period(day, period.debut_mois_jour, period.fin_mois_jour):
                problems.append(f"le {day:%d/%m/%Y} est dans la période « {period.nom} »")
        elif period.vacances_scolaires:
            # Christmas holidays are the same in every metropolitan zone; overseas uses zone A's.
            try:
                name = _school_holiday_name(day, school_zone or "A")
            except ValueError as exc:
                # Missing calendar data is one more problem: the others found so far are kept.
                message = str(exc)
                missing = message[0].lower() + message[1:].rstrip(".")
                if missing not in problems:
                    problems.append(missing)
                continue
            if name == period.vacances_scolaires:
                problems.append(f"le {day:%d/%m/%Y} est dans la période « {period.nom} »")
    return problems


def minimum_duration_warning(started_on: date, contract_on: date, stages: "StagesFile") -> str | None:
    """The guide's 6-8 months minimum from idea to contract: a warning, never a refusal."""
    minimum = stages.duree_minimale_projet_mois.min
    if contract_on < add_months(started_on, minimum):
        return (
            f"Attention : {(contract_on - started_on).days} jours seulement entre le lancement du projet "
            f"({started_on:%d/%m/%Y}) et la contractualisation ({contract_on:%d/%m/%Y}) ; le guide recommande "
            f"au moins {minimum} mois."
        )
    return None
