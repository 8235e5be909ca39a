"""Legal figures of the stage-5 documents, computed from the amounts in force and the bounds in config/.

Every function is pure: the amounts come from an :class:`~implantation.amounts.AmountBook` (the shipped
file and what an administrator added), the bounds from ``ContractsFile``. A value outside a legal bound
yields a French sentence naming the rule, so that rendering can refuse before anything is written.

Rounding: euro amounts are rounded half up to the cent, except the pay floor, rounded up so that it is
never under 45 % of the SMIC (11,65 € × 45 % = 5,2425 € → 5,25 €, not 5,24 €).
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

from implantation.amounts import AmountBook, Figure, Place, RuleError, smic_key, socle_key
from implantation.config.schema import Amount, ContributionBase, ContributionKind, TrialPeriodRules
from implantation.dates import add_months, add_years
from implantation.enums import SiaeKind
from implantation.work_schedule import monthly_hours

__all__ = ["RuleError", "add_months", "add_years"]

CENT = Decimal("0.01")


def to_cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def to_cents_up(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_CEILING)


@dataclass(frozen=True)
class PayFloor:
    smic: Figure
    share: Figure
    floor: Decimal


def hourly_pay_floor(book: AmountBook, place: Place, on: date, *, forecast: bool = False) -> PayFloor:
    """Minimum hourly pay for production work (D412-64): SMIC in force × configured share."""
    smic = book.figure(smic_key(place), on, forecast=forecast)
    share = book.figure("part_smic_remuneration_minimale", on, forecast=forecast)
    return PayFloor(smic=smic, share=share, floor=to_cents_up(smic.value * share.value))


def hourly_rate_problem(rate: Decimal, floor: PayFloor) -> str | None:
    if rate >= floor.floor:
        return None
    percent = (floor.share.value * 100).normalize()
    return (
        f"le taux horaire de {rate} € est inférieur au plancher de {floor.floor} € "
        f"({percent} % du SMIC horaire de {floor.smic.value} € ; {floor.share.amount.citation})"
    )


@dataclass(frozen=True)
class TrialBound:
    max_days: int
    rule: str


def trial_period_bound(start: date, planned_months: int | None, rules: TrialPeriodRules) -> TrialBound:
    """Longest trial period, in calendar days (R412-28), for a CEP starting on ``start``.

    With a foreseeable duration, R412-30 allows one day per week of contract, capped at two weeks up to
    six months and one month beyond; an open-ended CEP without one only gets the one-month cap.
    """
    long_cap = (add_months(start, rules.plafond_autres_cas_mois) - start).days
    if planned_months is None:
        return TrialBound(
            long_cap,
            f"{rules.plafond_autres_cas_mois} mois au plus pour un contrat à durée indéterminée ({rules.source})",
        )
    weeks = (add_months(start, planned_months) - start).days // 7
    per_week = weeks * rules.jours_par_semaine_de_contrat
    short = planned_months <= rules.seuil_contrat_court_mois
    cap = rules.plafond_contrat_court_jours if short else long_cap
    cap_text = (
        f"dans la limite de {rules.plafond_contrat_court_jours} jours pour un contrat d'au plus "
        f"{rules.seuil_contrat_court_mois} mois"
        if short
        else f"dans la limite de {rules.plafond_autres_cas_mois} mois"
    )
    rule = f"{rules.jours_par_semaine_de_contrat} jour par semaine de contrat, {cap_text} ({rules.source})"
    return TrialBound(min(per_week, cap), rule)


def trial_days_problem(days: int, bound: TrialBound) -> str | None:
    if days <= bound.max_days:
        return None
    return f"la période d'essai de {days} jours dépasse le maximum de {bound.max_days} jours : {bound.rule}"


def trial_end(start: date, days: int) -> date:
    return start + timedelta(days=days - 1)


@dataclass(frozen=True)
class AidePoste:
    socle: Figure
    etp: Decimal
    socle_total: Decimal
    cap: Figure
    modulated_share: Decimal
    modulated_total: Decimal
    total: Decimal


def aide_au_poste(
    book: AmountBook,
    kind: SiaeKind,
    place: Place,
    etp: Decimal,
    on: date,
    modulated_share: Decimal | None,
    *,
    forecast: bool = False,
) -> AidePoste:
    """Yearly aide au poste: ETP × socle of the SIAE kind, plus the modulated part (capped in detention).

    Without a requested share the cap applies, the guide calling it a flat rate in detention.
    """
    if kind not in (SiaeKind.ACI, SiaeKind.EI):
        raise RuleError(f"aucun montant socle d'aide au poste pour une SIAE de type {kind.value}")
    socle = book.figure(socle_key(kind.value, place), on, forecast=forecast)
    cap = book.figure("part_modulee_max_detention", on, forecast=forecast)
    share = cap.value if modulated_share is None else modulated_share
    socle_total = to_cents(socle.value * etp)
    modulated_total = to_cents(socle_total * share)
    return AidePoste(socle, etp, socle_total, cap, share, modulated_total, socle_total + modulated_total)


def modulated_share_problem(share: Decimal, cap: Figure) -> str | None:
    if share <= cap.value:
        return None
    return (
        f"la part modulée de {(share * 100).normalize()} % dépasse le plafond de "
        f"{(cap.value * 100).normalize()} % en détention ({cap.amount.citation})"
    )


def duration_problem(start: date, end: date, max_years: int, what: str, source: str) -> str | None:
    """A document lasting ``max_years`` at most must end before the N-th anniversary of its start."""
    if end < start:
        return f"{what} : la date de fin précède la date de début"
    if end < add_years(start, max_years):
        return None
    return f"{what} : la durée dépasse le maximum de {max_years} ans ({source})"


def duration_text(start: date, end: date) -> str:
    """Whole years and months between start and the day after end, e.g. « 3 ans »."""
    months = 0
    while add_months(start, months + 1) <= end + timedelta(days=1):
        months += 1
    years, rest = divmod(months, 12)
    parts = []
    if years:
        parts.append(f"{years} an" + ("s" if years > 1 else ""))
    if rest:
        parts.append(f"{rest} mois")
    if not parts:
        days = (end - start).days + 1
        return f"{days} jour" + ("s" if days > 1 else "")
    return " et ".join(parts)


@dataclass(frozen=True)
class ContributionLine:
    key: str
    label: str
    part: ContributionKind
    rate: Amount
    base: Decimal
    amount: Decimal
    article: str


@dataclass(frozen=True)
class MonthlyPay:
    """A month of pay for the contract's weekly hours, and the contributions on it (R412-25, 11° and 12°)."""

    hours: Decimal
    gross: Decimal
    old_age_floor: Decimal  # L382-40 and D382-35 CSS: the old-age base is at least this
    lines: list[ContributionLine]

    def total(self, part: ContributionKind) -> Decimal:
        return sum((line.amount for line in self.lines if line.part == part), Decimal(0))

    @property
    def net(self) -> Decimal:
        return self.gross - self.total(ContributionKind.EMPLOYEE)


def contribution_keys(book: AmountBook) -> list[str]:
    return [key for key in book.all_keys() if book.series(key).cotisation is not None]


def old_age_floor(book: AmountBook, place: Place, on: date) -> Decimal:
    """D382-35 CSS: 50 times the hourly SMIC in force on 1 January of the year, per month."""
    hours = book.in_force("assiette_minimale_vieillesse_heures_smic", on).valeur
    january = date(on.year, 1, 1)
    smic = book.in_force(smic_key(place), max(january, book.values(smic_key(place))[0].du))
    return to_cents(hours * smic.valeur)


def contribution_lines(
    book: AmountBook,
    place: Place,
    on: date,
    gross: Decimal,
    months: Decimal = Decimal(1),
    parts: frozenset[ContributionKind] = frozenset(ContributionKind),
) -> tuple[Decimal, list[ContributionLine]]:
    """Each contribution the CSS sets on a CEP's pay, at its rate in force, on its base (``months`` of pay).

    Refused where a rate is missing (the AT/MP rate of the establishment, or Mayotte's own regime), naming it.
    """
    if place.mayotte:
        reason = book.money.absent.get("cotisations_mayotte", "taux de cotisation de Mayotte non livrés")
        raise RuleError(f"cotisations sociales à Mayotte : {reason}")
    floor = old_age_floor(book, place, on) * months
    plafond = book.in_force("plafond_securite_sociale_mensuel", on).valeur * months
    problems: list[str] = []
    lines = []
    for key in contribution_keys(book):
        series = book.series(key)
        meta = series.cotisation
        assert meta is not None
        if meta.part not in parts:
            continue
        try:
            rate = book.in_force(key, on, place.establishment if series.par_etablissement else None)
        except RuleError as exc:
            problems.append(str(exc))
            continue
        base = gross
        if meta.assiette in (ContributionBase.OLD_AGE, ContributionBase.OLD_AGE_CAPPED):
            base = max(gross, floor)
        if meta.assiette == ContributionBase.OLD_AGE_CAPPED:
            base = min(base, plafond)
        lines.append(
            ContributionLine(
                key, series.libelle, meta.part, rate, base, to_cents(base * rate.valeur), meta.article
            )
        )
    if problems:
        raise RuleError(" ; ".join(problems))
    return floor, lines


def monthly_pay(
    book: AmountBook, place: Place, on: date, hourly_rate: Decimal, weekly_hours: Decimal
) -> MonthlyPay:
    """Gross pay of an average month (weekly hours × 52 / 12) and each contribution at its rate in force."""
    hours = monthly_hours(weekly_hours)
    gross = to_cents(hourly_rate * hours)
    floor, lines = contribution_lines(book, place, on, gross)
    return MonthlyPay(hours, gross, floor, lines)


@dataclass(frozen=True)
class OperatorPayCharge:
    """A year of opérateurs' pay as the SIAE bears it: net pay for an ACI (the EP bears the contributions,
    guide D.2), gross pay plus employer contributions for an EI. One computation for the DUI and stage 3."""

    hours: Decimal
    floor: PayFloor
    gross: Decimal
    contributions: Decimal
    charge: Decimal
    net_only: bool
    hours_figure: Figure
    lines: list[ContributionLine]


def operator_pay_charge(
    book: AmountBook, kind: SiaeKind, place: Place, on: date, etp: Decimal, *, forecast: bool = True
) -> OperatorPayCharge:
    full_time = book.figure("heures_temps_plein_annuel", on, forecast=forecast)
    hours = etp * full_time.value
    floor = hourly_pay_floor(book, place, on, forecast=forecast)
    gross = to_cents(hours * floor.floor)
    # Contributions on a year of pay; the monthly old-age floor counts once per ETP and month. An ACI bears
    # the net pay (the worker's share only is deducted), an EI the employer's share on top of gross pay.
    part = ContributionKind.EMPLOYEE if kind == SiaeKind.ACI else ContributionKind.EMPLOYER
    _, lines = contribution_lines(book, place, on, gross, months=etp * 12, parts=frozenset({part}))
    contributions = sum((line.amount for line in lines), Decimal(0))
    if kind == SiaeKind.ACI:
        return OperatorPayCharge(
            hours, floor, gross, contributions, gross - contributions, True, full_time, lines
        )
    return OperatorPayCharge(
        hours, floor, gross, contributions, gross + contributions, False, full_time, lines
    )
