"""Legal figures computed from the shipped montants.toml and contrats.toml."""

from datetime import date
from decimal import Decimal

import pytest

from implantation import contract_rules as rules
from implantation.amounts import AmountBook, Place
from implantation.config.schema import ProcessConfig
from implantation.documents import formatting as fmt
from implantation.enums import SiaeKind

PLACE = Place("MA-GRADIGNAN", "33")


def test_pay_floor_uses_the_smic_in_force_on_the_contract_date(cfg: ProcessConfig) -> None:
    book = AmountBook(cfg.money)
    march_2026 = rules.hourly_pay_floor(book, PLACE, date(2026, 3, 1))
    assert march_2026.smic.value == Decimal("12.02")
    assert march_2026.floor == Decimal("5.41")  # 5,409 rounded up to the cent
    assert rules.hourly_pay_floor(book, PLACE, date(2025, 6, 1)).floor == Decimal("5.35")  # 11,88 × 45 %


def test_pay_floor_refuses_a_date_no_amount_covers(cfg: ProcessConfig) -> None:
    with pytest.raises(rules.RuleError, match="SMIC horaire brut"):
        rules.hourly_pay_floor(AmountBook(cfg.money), PLACE, date(2020, 1, 1))


def test_hourly_rate_below_the_floor_names_the_rule(cfg: ProcessConfig) -> None:
    floor = rules.hourly_pay_floor(AmountBook(cfg.money), PLACE, date(2026, 3, 1))
    assert rules.hourly_rate_problem(Decimal("5.41"), floor) is None
    problem = rules.hourly_rate_problem(Decimal("5.40"), floor)
    assert problem is not None and "D412-64" in problem and "5.41" in problem


@pytest.mark.parametrize(
    ("months", "expected"),
    [(6, 14), (1, 4), (2, 8), (7, 30), (12, 31), (None, 31)],
)
def test_trial_period_bound(cfg: ProcessConfig, months: int | None, expected: int) -> None:
    bound = rules.trial_period_bound(date(2026, 3, 1), months, cfg.contracts.periode_essai)
    assert bound.max_days == expected
    assert "R412-28" in bound.rule


def test_trial_period_one_month_follows_the_calendar(cfg: ProcessConfig) -> None:
    assert rules.trial_period_bound(date(2026, 2, 1), 12, cfg.contracts.periode_essai).max_days == 28


def test_trial_days_above_the_bound_are_refused(cfg: ProcessConfig) -> None:
    bound = rules.trial_period_bound(date(2026, 3, 1), 6, cfg.contracts.periode_essai)
    assert rules.trial_days_problem(14, bound) is None
    problem = rules.trial_days_problem(15, bound)
    assert problem is not None and "14 jours" in problem and "R412-28" in problem


def test_aide_au_poste_is_etp_times_socle_plus_capped_modulated_part(cfg: ProcessConfig) -> None:
    book = AmountBook(cfg.money)
    aid = rules.aide_au_poste(book, SiaeKind.ACI, PLACE, Decimal("10"), date(2026, 3, 1), None)
    assert aid.socle_total == Decimal("239210.00")
    assert aid.modulated_share == Decimal("0.05")
    assert aid.modulated_total == Decimal("11960.50")
    assert aid.total == Decimal("251170.50")
    ei = rules.aide_au_poste(book, SiaeKind.EI, PLACE, Decimal("2.5"), date(2026, 3, 1), Decimal("0.02"))
    assert ei.total == Decimal("33260.00") + Decimal("665.20")
    assert rules.modulated_share_problem(Decimal("0.05"), aid.cap) is None
    assert "5 %" in (rules.modulated_share_problem(Decimal("0.08"), aid.cap) or "")


def test_duration_bounds() -> None:
    start = date(2026, 3, 1)
    assert rules.duration_problem(start, date(2029, 2, 28), 3, "convention", "L5132-2") is None
    assert "3 ans" in (rules.duration_problem(start, date(2029, 3, 1), 3, "convention", "L5132-2") or "")
    assert "précède" in (rules.duration_problem(start, date(2026, 2, 1), 3, "convention", "L5132-2") or "")
    assert rules.duration_text(start, date(2029, 2, 28)) == "3 ans"
    assert rules.duration_text(start, date(2027, 8, 31)) == "1 an et 6 mois"
    assert rules.add_years(date(2028, 2, 29), 1) == date(2029, 2, 28)


def test_french_formatting() -> None:
    assert fmt.fr_date(date(2027, 1, 1)) == "1er janvier 2027"
    assert fmt.fr_date(date(2026, 3, 14)) == "14 mars 2026"
    assert fmt.fr_money(Decimal("3000")) == "3\u00a0000,00\u00a0€"
    assert fmt.fr_money(Decimal("5.409")) == "5,41\u00a0€"
    assert fmt.fr_number(Decimal("12.5")) == "12,5"
    assert fmt.fr_percent(Decimal("0.45")) == "45\u00a0%"
    assert fmt.money_words(Decimal("3000")) == "trois mille euros"
    assert fmt.money_words(Decimal("5.41")) == "cinq euros et quarante et un centimes"
    assert fmt.money_words(Decimal("1.01")) == "un euro et un centime"
    assert fmt.money_words(Decimal("2000000")) == "deux millions d'euros"
