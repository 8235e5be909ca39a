"""The legal amounts in force: the shipped file, the values an administrator added, and how a document uses them.

An amount fixed by a text applies from its start date until the next text replaces it: the value in force
on a day is the latest one that started on or before it. No value is invented: a day before every value,
or a key with no value at all, is refused with the amount named and the command that adds it.

Binding figures (a CEP's pay, the contract's floor) take the value in force on their date. Forecasts (the
DUI budget, a convention year whose amount is not yet fixed) take the same value and say so: « hypothèse :
montant en vigueur au JJ/MM/AAAA (texte) », the date being the last time the amount was checked. A figure
is « fixed » when no usual revaluation date of its amount falls between that check and the figure's day.

Pure code: the rows an administrator added come in as :class:`Added` values (read by
:mod:`implantation.services.amounts`).
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from implantation.config.schema import Amount, AmountSeries, MoneyFile

MAYOTTE = "976"
ADD_COMMAND = "siae montants ajouter"


class RuleError(ValueError):
    """No amount in force on a date, or a key without any value: the message names it in French."""


@dataclass(frozen=True)
class Added:
    """A value an administrator entered (``siae montants ajouter``), on top of the shipped file."""

    key: str
    amount: Amount
    establishment: str | None = None  # establishment code, for an amount set per establishment
    rank: int = 0  # order of entry: a later entry for the same key and day corrects an earlier one


@dataclass(frozen=True)
class Figure:
    """An amount as a document prints it: the value, its text, and whether it is a forecast."""

    key: str
    label: str
    amount: Amount
    hypothesis: bool
    checked_on: date | None

    @property
    def value(self) -> Decimal:
        return self.amount.valeur

    @property
    def note(self) -> str:
        """The text, or « hypothèse : montant en vigueur au JJ/MM/AAAA (texte) » for a forecast."""
        if not self.hypothesis:
            return self.amount.citation
        known = self.checked_on or self.amount.du
        return f"hypothèse : montant en vigueur au {known:%d/%m/%Y} ({self.amount.citation})"


def _revaluations(month_day: str, after: date, until: date) -> bool:
    """Is there a ``MM-DD`` date in ``(after, until]``?"""
    month, day = (int(part) for part in month_day.split("-"))
    for year in range(after.year, until.year + 1):
        try:
            candidate = date(year, month, day)
        except ValueError:  # 02-29 in a common year
            continue
        if after < candidate <= until:
            return True
    return False


class AmountBook:
    """Every amount by key: the shipped values and the added ones merged, the checks recorded.

    A view made by :meth:`tracking` remembers the values it handed out, so that a document knows whether
    it used a demonstration value.
    """

    def __init__(
        self,
        money: MoneyFile,
        added: Iterable[Added] = (),
        checks: Mapping[str, date] | None = None,
    ) -> None:
        self.money = money
        self.added = sorted(added, key=lambda a: a.rank)
        self.checks = dict(checks or {})
        self.used: list[Amount] = []

    def tracking(self) -> "AmountBook":
        view = AmountBook.__new__(AmountBook)
        view.money, view.added, view.checks, view.used = self.money, self.added, self.checks, []
        return view

    @property
    def demonstration(self) -> bool:
        return any(a.demonstration for a in self.used)

    # --- what is known -------------------------------------------------------------------------------

    def series(self, key: str) -> AmountSeries:
        try:
            return self.money.montant[key]
        except KeyError:
            raise RuleError(f"montant inconnu « {key} » (clés : {', '.join(self.money.montant)})") from None

    def all_keys(self) -> list[str]:
        return list(self.money.montant)

    def values(self, key: str, establishment: str | None = None) -> list[Amount]:
        """The values of ``key`` in date order; for an establishment, its own values first at each date."""
        by_day: dict[date, Amount] = {a.du: a for a in self.series(key).valeurs}
        for entry in self.added:  # in order of entry: a correction replaces the value of the same day
            if entry.key == key and entry.establishment is None:
                by_day[entry.amount.du] = entry.amount
        if establishment is not None:
            for entry in self.added:
                if entry.key == key and entry.establishment == establishment:
                    by_day[entry.amount.du] = entry.amount
        return [by_day[day] for day in sorted(by_day)]

    def checked_on(self, key: str) -> date | None:
        """When the amount was last checked: the file's date, a recorded check or the last value added."""
        known = [d for d in (self.series(key).verifie_le, self.checks.get(key)) if d is not None]
        return max(known) if known else None

    def latest(self, key: str, establishment: str | None = None) -> Amount | None:
        values = self.values(key, establishment)
        return values[-1] if values else None

    # --- a value on a day -----------------------------------------------------------------------------

    def missing(self, key: str, on: date, establishment: str | None = None) -> str:
        series = self.series(key)
        where = f" pour l'établissement {establishment}" if series.par_etablissement and establishment else ""
        option = " --etablissement CODE" if series.par_etablissement else ""
        return (
            f"aucune valeur « {series.libelle} »{where} en vigueur au {on:%d/%m/%Y} : ajoutez-la avec son "
            f'texte ({ADD_COMMAND} {key} VALEUR --du AAAA-MM-JJ{option} --source "…" --date-source AAAA-MM-JJ)'
        )

    def in_force(self, key: str, on: date, establishment: str | None = None) -> Amount:
        """The latest value started on or before ``on`` (and not ended by its own text); never a guess."""
        candidates = [a for a in self.values(key, establishment) if a.du <= on]
        if not candidates or (candidates[-1].au is not None and on > candidates[-1].au):
            raise RuleError(self.missing(key, on, establishment))
        self.used.append(candidates[-1])
        return candidates[-1]

    def is_fixed(self, key: str, on: date, establishment: str | None = None) -> bool:
        """Is the value for ``on`` known for sure: no usual revaluation between the last check and ``on``?"""
        series = self.series(key)
        if series.revalorisation is None:
            return True
        latest = self.latest(key, establishment)
        since = max(d for d in (self.checked_on(key), latest.du if latest else None) if d is not None)
        return not _revaluations(series.revalorisation, since, on)

    def figure(
        self, key: str, on: date, establishment: str | None = None, *, forecast: bool = False
    ) -> Figure:
        """The value for ``on``; ``forecast`` always prints it as a hypothesis (the DUI budget), otherwise
        only when the amount may be revalued before ``on`` (a convention year not yet fixed)."""
        amount = self.in_force(key, on, establishment)
        hypothesis = forecast or not self.is_fixed(key, on, establishment)
        return Figure(key, self.series(key).libelle, amount, hypothesis, self.checked_on(key))

    def overdue(self, key: str, today: date) -> date | None:
        """The usual revaluation date passed since the latest value and the last check, if any."""
        series = self.series(key)
        latest = self.latest(key)
        if series.revalorisation is None or latest is None:
            return None
        since = max(d for d in (self.checked_on(key), latest.du) if d is not None)
        month, day = (int(part) for part in series.revalorisation.split("-"))
        for year in range(since.year, today.year + 1):
            candidate = date(year, month, day)
            if since < candidate <= today:
                return candidate
        return None


@dataclass(frozen=True)
class Place:
    """Where an amount applies: the establishment (AT/MP rate) and its territory (Mayotte's own values)."""

    establishment: str | None
    departement: str

    @property
    def mayotte(self) -> bool:
        return self.departement == MAYOTTE


def smic_key(place: Place) -> str:
    return "smic_horaire_brut_mayotte" if place.mayotte else "smic_horaire_brut"


def socle_key(kind: str, place: Place) -> str:
    return f"aide_au_poste_socle_{kind.lower()}" + ("_mayotte" if place.mayotte else "")
