"""Dated amounts: the value in force on the document's date or a refusal, never an older value."""

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from implantation import contract_rules as rules
from implantation.config.loader import ConfigError, config_copy, load_process_config
from implantation.config.schema import Amount, MoneyFile, ProcessConfig
from implantation.enums import SiaeKind
from implantation.settings import PROJECT_ROOT

SHIPPED = PROJECT_ROOT / "config"


@pytest.fixture(scope="module")
def shipped() -> ProcessConfig:
    return load_process_config(SHIPPED)


def _with_smic(money: MoneyFile, value: str) -> MoneyFile:
    smic = Amount(valeur=Decimal(value), du=date(2030, 1, 1), au=date(2030, 12, 31), source="SMIC d'essai")
    return money.model_copy(update={"smic_horaire_brut": [smic]})


def test_floor_is_rounded_up_never_under_45_percent(shipped: ProcessConfig) -> None:
    money = _with_smic(shipped.money, "11.65")
    floor = rules.hourly_pay_floor(money, date(2030, 6, 1))
    assert floor.floor == Decimal("5.25")  # 11,65 × 45 % = 5,2425 ; 5,24 would be under 45 %
    assert floor.floor >= Decimal("11.65") * Decimal("0.45")
    assert rules.hourly_rate_problem(Decimal("5.25"), floor) is None
    refused = rules.hourly_rate_problem(Decimal("5.24"), floor)
    assert refused is not None and "5.25" in refused and "D412-64" in refused


@pytest.mark.parametrize("smic", ["11.88", "12.02", "11.11", "10.01", "13.37"])
def test_floor_is_the_smallest_cent_amount_at_or_above_45_percent(shipped: ProcessConfig, smic: str) -> None:
    floor = rules.hourly_pay_floor(_with_smic(shipped.money, smic), date(2030, 6, 1)).floor
    exact = Decimal(smic) * Decimal("0.45")
    assert exact <= floor < exact + Decimal("0.01")


def test_the_2026_smic_is_the_shipped_value_with_its_decree(shipped: ProcessConfig) -> None:
    smic = rules.amount_on(shipped.money.smic_horaire_brut, date(2026, 7, 14), "SMIC", "smic_horaire_brut")
    assert smic.valeur == Decimal("12.02")
    assert smic.citation.startswith("Décret") and "brief" not in smic.citation
    assert rules.hourly_pay_floor(shipped.money, date(2026, 7, 14)).floor == Decimal("5.41")
    assert rules.hourly_pay_floor(shipped.money, date(2025, 12, 31)).smic.valeur == Decimal("11.88")


def test_a_2027_date_with_no_2027_smic_is_refused_naming_the_amount_and_the_file(
    shipped: ProcessConfig,
) -> None:
    with pytest.raises(rules.RuleError) as refused:
        rules.hourly_pay_floor(shipped.money, date(2027, 1, 1))
    assert str(refused.value) == (
        "aucune valeur « SMIC horaire brut » en vigueur au 01/01/2027 : ajoutez-la, avec sa source, "
        "dans config/montants.toml (clé « smic_horaire_brut »)"
    )


def test_the_2025_aide_au_poste_is_not_used_for_2027(shipped: ProcessConfig) -> None:
    aid = rules.aide_au_poste(shipped.money, SiaeKind.ACI, Decimal("1"), date(2025, 5, 1), None)
    assert aid.socle.valeur == Decimal("23921") and aid.socle.date_source == date(2024, 12, 4)
    with pytest.raises(rules.RuleError, match=r"aide_au_poste_socle\.ACI"):
        rules.aide_au_poste(shipped.money, SiaeKind.ACI, Decimal("1"), date(2027, 2, 1), None)


def test_a_later_period_added_to_the_file_is_used(tmp_path: Path) -> None:
    """The yearly update is one more block: 2027 then works without touching the 2026 value."""
    extra = tmp_path / "smic_2027.toml"
    extra.write_text(
        '[[smic_horaire_brut]]\nvaleur = "12.50"\ndu = 2027-01-01\nau = 2027-12-31\n'
        'source = "Décret d\'essai"\ndate_source = 2026-12-20\n',
        encoding="utf-8",
    )
    cfg = load_process_config(config_copy(SHIPPED, tmp_path / "config", extra))
    assert rules.hourly_pay_floor(cfg.money, date(2027, 3, 1)).floor == Decimal("5.63")  # 5,625 rounded up
    assert rules.hourly_pay_floor(cfg.money, date(2026, 12, 31)).floor == Decimal("5.41")


@pytest.mark.parametrize(
    ("block", "message"),
    [
        (
            '[[smic_horaire_brut]]\nvaleur = "12.10"\ndu = 2026-06-01\nau = 2026-12-31\nsource = "Essai"\n',
            "les périodes du 2026-01-01 et du 2026-06-01 se chevauchent",
        ),
        (
            '[[smic_horaire_brut]]\nvaleur = "12.10"\ndu = 2027-01-01\nsource = "Décret sans date"\n',
            "« Décret sans date » : indiquer la date du texte (date_source)",
        ),
        (
            '[[smic_horaire_brut]]\nvaleur = "12.10"\ndu = 2027-06-01\nau = 2027-01-01\nsource = "Essai"\n',
            "la date « au » (2027-01-01) précède la date « du » (2027-06-01)",
        ),
    ],
)
def test_inconsistent_periods_are_refused_in_french(tmp_path: Path, block: str, message: str) -> None:
    extra = tmp_path / "extra.toml"
    extra.write_text(block, encoding="utf-8")
    with pytest.raises(ConfigError) as refused:
        config_copy(SHIPPED, tmp_path / "config", extra)
    assert "montants.toml" in str(refused.value) and message in str(refused.value)


def test_shipped_file_has_no_contribution_rate_and_the_demo_copy_says_so(
    shipped: ProcessConfig, demo_cfg: ProcessConfig
) -> None:
    """The guide gives no contribution rate: none is shipped; the demonstration's are labelled fictitious."""
    assert shipped.money.cotisations_operateur == []
    assert demo_cfg.money.cotisations_operateur
    for contribution in demo_cfg.money.cotisations_operateur:
        assert all(rate.source.startswith("DÉMONSTRATION") for rate in contribution.taux)
