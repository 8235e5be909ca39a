"""Legal figures of the stage-5 documents, computed from the dated amounts and bounds in config/.

Every function is pure: the amount in force on the relevant date comes from ``MoneyFile``, the bounds
from ``ContractsFile`` or ``DocumentsFile``. A value outside a legal bound yields a French sentence naming
the rule, so that rendering can refuse before anything is written.

Rounding: euro amounts are rounded half up to the cent, except the pay floor, rounded up so that it is
never under 45 % of the SMIC (11,65 € × 45 % = 5,2425 € → 5,25 €, not 5,24 €).
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

from implantation.config.schema import Amount, ContributionKind, MoneyFile, TrialPeriodRules
from implantation.dates import add_months, add_years
from implantation.enums import SiaeKind
from implantation.work_schedule import monthly_hours

CENT = Decimal("0.01")


class RuleError(ValueError):
    """No amount in force on a date: the configuration does not cover it."""


def to_cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def to_cents_up(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_CEILING)


MONEY_FILE = "config/montants.toml"


def amount_on(amounts: list[Amount], on: date, what: str, key: str) -> Amount:
    """The value whose period (``du`` to ``au``) contains ``on``; never an older one when none does."""
    for amount in amounts:
        if amount.du <= on and (amount.au is None or on <= amount.au):
            return amount
    raise RuleError(
        f"aucune valeur « {what} » en vigueur au {on.strftime('%d/%m/%Y')} : ajoutez-la, avec sa source, "
        f"dans {MONEY_FILE} (clé « {key} »)"
    )


@dataclass(frozen=True)
class PayFloor:
    smic: Amount
    share: Amount
    floor: Decimal


def hourly_pay_floor(money: MoneyFile, on: date) -> PayFloor:
    """Minimum hourly pay for production work (D412-64): SMIC in force × configured share."""
    smic = amount_on(money.smic_horaire_brut, on, "SMIC horaire brut", "smic_horaire_brut")
    share = amount_on(
        money.part_smic_remuneration_minimale, on, "part du SMIC", "part_smic_remuneration_minimale"
    )
    return PayFloor(smic=smic, share=share, floor=to_cents_up(smic.valeur * share.valeur))


def hourly_rate_problem(rate: Decimal, floor: PayFloor) -> str | None:
    if rate >= floor.floor:
        return None
    percent = (floor.share.valeur * 100).normalize()
    return (
        f"le taux horaire de {rate} € est inférieur au plancher de {floor.floor} € "
        f"({percent} % du SMIC horaire de {floor.smic.valeur} € ; {floor.share.citation})"
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
    socle: Amount
    etp: Decimal
    socle_total: Decimal
    cap: Amount
    modulated_share: Decimal
    modulated_total: Decimal
    total: Decimal


def aide_au_poste(
    money: MoneyFile, kind: SiaeKind, etp: Decimal, on: date, modulated_share: Decimal | None
) -> AidePoste:
    """Yearly aide au poste: ETP × socle of the SIAE kind, plus the modulated part (capped in detention).

    Without a requested share the cap applies, the guide calling it a flat rate in detention.
    """
    if kind not in money.aide_au_poste_socle:
        raise RuleError(f"aucun montant socle d'aide au poste pour une SIAE de type {kind.value}")
    socle = amount_on(
        money.aide_au_poste_socle[kind],
        on,
        f"aide au poste, montant socle {kind.value}",
        f"aide_au_poste_socle.{kind.value}",
    )
    cap = amount_on(
        money.part_modulee_max_detention,
        on,
        "part modulée maximale en détention",
        "part_modulee_max_detention",
    )
    share = cap.valeur if modulated_share is None else modulated_share
    socle_total = to_cents(socle.valeur * etp)
    modulated_total = to_cents(socle_total * share)
    return AidePoste(socle, etp, socle_total, cap, share, modulated_total, socle_total + modulated_total)


def modulated_share_problem(share: Decimal, cap: Amount) -> str | None:
    if share <= cap.valeur:
        return None
    return (
        f"la part modulée de {(share * 100).normalize()} % dépasse le plafond de "
        f"{(cap.valeur * 100).normalize()} % en détention ({cap.citation})"
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
    label: str
    part: ContributionKind
    rate: Amount
    amount: Decimal


@dataclass(frozen=True)
class MonthlyPay:
    """A month of pay for the contract's weekly hours, and the contributions on it (R412-25, 11° and 12°)."""

    hours: Decimal
    gross: Decimal
    lines: list[ContributionLine]

    def total(self, part: ContributionKind) -> Decimal:
        return sum((line.amount for line in self.lines if line.part == part), Decimal(0))

    @property
    def net(self) -> Decimal:
        return self.gross - self.total(ContributionKind.EMPLOYEE)


def contribution_lines(money: MoneyFile, on: date, gross: Decimal) -> list[ContributionLine]:
    """Each configured contribution on ``gross`` at its rate in force; refused while none is configured."""
    if not money.cotisations_operateur:
        raise RuleError(
            "aucun taux de cotisation sociale des opérateurs n'est renseigné (le guide ne les chiffre pas) : "
            "ajoutez-les, avec leur source, dans config/montants.toml (clé « cotisations_operateur »)"
        )
    lines = []
    for contribution in money.cotisations_operateur:
        rate = amount_on(contribution.taux, on, f"cotisation {contribution.libelle}", "cotisations_operateur")
        lines.append(
            ContributionLine(contribution.libelle, contribution.part, rate, to_cents(gross * rate.valeur))
        )
    return lines


def monthly_pay(money: MoneyFile, on: date, hourly_rate: Decimal, weekly_hours: Decimal) -> MonthlyPay:
    """Gross pay of an average month (weekly hours × 52 / 12) and each contribution at its rate in force.

    No rate is shipped (the guide gives none): until montants.toml lists them, this refuses.
    """
    hours = monthly_hours(weekly_hours)
    gross = to_cents(hourly_rate * hours)
    return MonthlyPay(hours, gross, contribution_lines(money, on, gross))


@dataclass(frozen=True)
class OperatorPayCharge:
    """A year of opérateurs' pay as the SIAE bears it: net pay for an ACI (the EP bears the contributions,
    guide D.2), gross pay and employer contributions for an EI."""

    hours: Decimal
    rate: Decimal
    gross: Decimal
    contributions: Decimal
    charge: Decimal
    net_only: bool


def operator_pay_charge(money: MoneyFile, kind: SiaeKind, on: date, etp: Decimal) -> OperatorPayCharge:
    full_time = amount_on(
        money.heures_temps_plein_annuel, on, "heures d'un temps plein", "heures_temps_plein_annuel"
    )
    hours = etp * full_time.valeur
    rate = hourly_pay_floor(money, on).floor
    gross = to_cents(hours * rate)
    lines = contribution_lines(money, on, gross)
    part = ContributionKind.EMPLOYEE if kind == SiaeKind.ACI else ContributionKind.EMPLOYER
    contributions = sum((line.amount for line in lines if line.part == part), Decimal(0))
    if kind == SiaeKind.ACI:
        return OperatorPayCharge(hours, rate, gross, contributions, gross - contributions, True)
    return OperatorPayCharge(hours, rate, gross, contributions, gross + contributions, False)
