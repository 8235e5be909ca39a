"""An opérateur's weekly schedule, and what the CEP derives from it (R412-25, 8° and 9°).

The schedule is data the SIAE enters per opérateur: the days worked, the start and end of the day and the
unpaid break. The weekly hours of the contract must equal what the schedule gives, or the CEP is refused:
« 24 h a week » printed beside a Monday-to-Friday 8 h-14 h schedule (30 h) is the contradiction this stops.
"""

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from implantation.calendar import public_holiday

DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
WEEKS_PER_MONTH = Decimal(52) / Decimal(12)
_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class WorkSchedule(BaseModel):
    """``{"jours": ["lundi", …], "debut": "08:00", "fin": "14:30", "pause_minutes": 30}``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    jours: Annotated[list[str], Field(min_length=1, max_length=6)]
    debut: str
    fin: str
    pause_minutes: Annotated[int, Field(ge=0)] = 0

    @field_validator("jours")
    @classmethod
    def _days(cls, value: list[str]) -> list[str]:
        unknown = [d for d in value if d not in DAYS]
        if unknown:
            raise ValueError(f"jour inconnu : {', '.join(unknown)} (attendu : {', '.join(DAYS)})")
        if len(set(value)) != len(value):
            raise ValueError("un jour est cité deux fois")
        return sorted(value, key=DAYS.index)

    @field_validator("debut", "fin")
    @classmethod
    def _time(cls, value: str) -> str:
        if not _TIME.match(value):
            raise ValueError(f"heure « {value} » invalide (format HH:MM attendu)")
        return value

    @model_validator(mode="after")
    def _span(self) -> "WorkSchedule":
        if self.span_minutes <= self.pause_minutes:
            raise ValueError("l'heure de fin doit suivre l'heure de début d'au moins la durée de la pause")
        return self

    @property
    def span_minutes(self) -> int:
        start, end = (datetime.strptime(t, "%H:%M") for t in (self.debut, self.fin))
        return int((end - start).total_seconds() // 60)

    @property
    def daily_hours(self) -> Decimal:
        return Decimal(self.span_minutes - self.pause_minutes) / 60

    @property
    def weekly_hours(self) -> Decimal:
        return self.daily_hours * len(self.jours)

    @property
    def rest_days(self) -> list[str]:
        return [d for d in DAYS if d not in self.jours]


def parse_schedule(raw: Any) -> tuple[WorkSchedule | None, str | None]:
    """The schedule, or a French problem naming what is wrong in it."""
    try:
        return WorkSchedule.model_validate(raw), None
    except ValidationError as exc:
        first = exc.errors()[0]
        detail = str(first.get("ctx", {}).get("error", first["msg"]))
        where = ".".join(str(p) for p in first["loc"])
        return None, f"l'emploi du temps est invalide ({where + ' : ' if where else ''}{detail})"


def hours_text(hours: Decimal) -> str:
    """Decimal hours as « 6 h », « 6 h 30 »."""
    minutes = int((hours * 60).to_integral_value(rounding=ROUND_HALF_UP))
    h, m = divmod(minutes, 60)
    return f"{h} h {m:02d}" if m else f"{h} h"


def clock_text(value: str) -> str:
    """« 08:30 » → « 8 h 30 »."""
    h, m = value.split(":")
    return f"{int(h)} h {m}"


def days_text(days: list[str]) -> str:
    """Consecutive days as a range (« du lundi au jeudi »), others listed (« lundi, mercredi et vendredi »)."""
    indexes = [DAYS.index(d) for d in days]
    if len(days) > 2 and indexes == list(range(indexes[0], indexes[-1] + 1)):
        return f"du {days[0]} au {days[-1]}"
    return days[0] if len(days) == 1 else ", ".join(days[:-1]) + " et " + days[-1]


def consistency_problem(schedule: WorkSchedule, weekly_hours: Decimal) -> str | None:
    if schedule.weekly_hours == weekly_hours:
        return None
    return (
        f"la durée hebdomadaire de {hours_text(weekly_hours)} ne correspond pas à l'emploi du temps "
        f"({days_text(schedule.jours)}, de {clock_text(schedule.debut)} à {clock_text(schedule.fin)}, "
        f"{_pause(schedule.pause_minutes)} : {hours_text(schedule.weekly_hours)} par semaine)"
    )


def _pause(minutes: int) -> str:
    return f"pause de {minutes} minutes" if minutes else "sans pause"


def monthly_hours(weekly_hours: Decimal) -> Decimal:
    """Weekly hours × 52 / 12, to the hundredth (24 h a week → 104 h a month)."""
    return (weekly_hours * WEEKS_PER_MONTH).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Holiday:
    day: date
    name: str


def worked_holidays(schedule: WorkSchedule, start: date, departement: str, days: int = 365) -> list[Holiday]:
    """Public holidays of the opérateur's département falling on one of his working days in the first year."""
    out = []
    for offset in range(days):
        day = start + timedelta(days=offset)
        if DAYS[day.weekday()] in schedule.jours and (name := public_holiday(day, departement)):
            out.append(Holiday(day, name))
    return out


@dataclass(frozen=True)
class Workshop:
    """The workshop's opening hours (dossier keys ``atelier_jours``, ``atelier_debut``, ``atelier_fin``)."""

    days: list[str]
    start: str
    end: str

    @property
    def text(self) -> str:
        return f"{days_text(self.days)}, de {clock_text(self.start)} à {clock_text(self.end)}"


def parse_days(raw: str) -> list[str]:
    """« lundi, mardi,jeudi » → the days in week order; ValueError naming an unknown or repeated day."""
    days = [d.strip().casefold() for d in raw.replace(";", ",").split(",") if d.strip()]
    if not days:
        raise ValueError("au moins un jour attendu (ex. lundi,mardi,mercredi)")
    unknown = [d for d in days if d not in DAYS]
    if unknown:
        raise ValueError(f"jour inconnu : {', '.join(unknown)} (attendu : {', '.join(DAYS)})")
    if len(set(days)) != len(days):
        raise ValueError("un jour est cité deux fois")
    return sorted(days, key=DAYS.index)


def check_clock(value: str) -> str:
    if not _TIME.match(value):
        raise ValueError(f"heure « {value} » invalide (format HH:MM attendu)")
    return value


def workshop_of(days: str | None, start: str | None, end: str | None) -> Workshop | None:
    if not days or not start or not end:
        return None
    return Workshop(parse_days(days), start, end)


def within_workshop_problem(schedule: WorkSchedule, workshop: Workshop) -> str | None:
    """A CEP is worked only when the workshop is open (the implantation contract's hours)."""
    outside = [d for d in schedule.jours if d not in workshop.days]
    if outside:
        return (
            f"l'emploi du temps prévoit le travail {', '.join(outside)}, jour(s) où l'atelier est fermé "
            f"(atelier ouvert {workshop.text})"
        )
    if schedule.debut < workshop.start or schedule.fin > workshop.end:
        return (
            f"l'emploi du temps (de {clock_text(schedule.debut)} à {clock_text(schedule.fin)}) dépasse les "
            f"horaires de l'atelier (ouvert {workshop.text})"
        )
    return None


def bounds_problem(
    schedule: WorkSchedule, weekly_hours: Decimal, minimum: int, daily_max: int, weekly_max: int, source: str
) -> str | None:
    """R412-50 and R412-51: at least the part-time minimum a week, at most the daily and weekly maxima."""
    if schedule.daily_hours > daily_max:
        return (
            f"{hours_text(schedule.daily_hours)} de travail effectif par jour dépassent le maximum de "
            f"{daily_max} heures ({source})"
        )
    if weekly_hours > weekly_max:
        return (
            f"{hours_text(weekly_hours)} par semaine dépassent le maximum de {weekly_max} heures ({source})"
        )
    if weekly_hours < minimum:
        return f"{hours_text(weekly_hours)} par semaine sont en dessous du minimum de {minimum} heures ({source})"
    return None
