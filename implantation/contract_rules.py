"""Legal figures of the stage-5 documents, computed from the dated amounts and bounds in config/.

Every function is pure: the amount in force on the relevant date comes from ``MoneyFile``, the bounds
from ``ContractsFile`` or ``DocumentsFile``. A value outside a legal bound yields a French sentence naming
the rule, so that rendering can refuse before anything is written.

Rounding: euro amounts are rounded half up to the cent (12,02 € × 45 % = 5,409 € → 5,41 €).
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from implantation.config.schema import Amount, MoneyFile, TrialPeriodRules
from implantation.dates import add_months, add_years
from implantation.enums import SiaeKind

CENT = Decimal("0.01")


class RuleError(ValueError):
    """No amount in force on a date: the configuration does not cover it."""


def to_cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def amount_on(amounts: list[Amount], on: date, what: str) -> Amount:
    """The amount whose effective date is the latest one not after ``on``."""
    in_force = [a for a in amounts if a.debut <= on]
    if not in_force:
        raise RuleError(f"aucun montant « {what} » en vigueur au {on.isoformat()} dans montants.toml")
    return max(in_force, key=lambda a: a.debut)


@dataclass(frozen=True)
class PayFloor:
    smic: Amount
    share: Amount
    floor: Decimal


def hourly_pay_floor(money: MoneyFile, on: date) -> PayFloor:
    """Minimum hourly pay for production work (D412-64): SMIC in force × configured share."""
    smic = amount_on(money.smic_horaire_brut, on, "SMIC horaire brut")
    share = amount_on(money.part_smic_remuneration_minimale, on, "part du SMIC")
    return PayFloor(smic=smic, share=share, floor=to_cents(smic.valeur * share.valeur))


def hourly_rate_problem(rate: Decimal, floor: PayFloor) -> str | None:
    if rate >= floor.floor:
        return None
    percent = (floor.share.valeur * 100).normalize()
    return (
        f"le taux horaire de {rate} € est inférieur au plancher de {floor.floor} € "
        f"({percent} % du SMIC horaire de {floor.smic.valeur} € ; {floor.share.source})"
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
        return TrialBound(long_cap, f"{rules.plafond_autres_cas_mois} mois au plus ({rules.source})")
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
    socle = amount_on(money.aide_au_poste_socle[kind], on, f"aide au poste socle {kind.value}")
    cap = amount_on(money.part_modulee_max_detention, on, "part modulée maximale en détention")
    share = cap.valeur if modulated_share is None else modulated_share
    socle_total = to_cents(socle.valeur * etp)
    modulated_total = to_cents(socle_total * share)
    return AidePoste(socle, etp, socle_total, cap, share, modulated_total, socle_total + modulated_total)


def modulated_share_problem(share: Decimal, cap: Amount) -> str | None:
    if share <= cap.valeur:
        return None
    return (
        f"la part modulée de {(share * 100).normalize()} % dépasse le plafond de "
        f"{(cap.valeur * 100).normalize()} % en détention ({cap.source})"
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
