"""Amounts in force until the next text replaces them: the shipped values, the added ones, forecasts, refusals."""

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from implantation import contract_rules as rules
from implantation.amounts import Added, AmountBook, Place
from implantation.config.loader import ConfigError, config_copy, load_process_config
from implantation.config.schema import Amount, AmountSeries, MoneyFile, ProcessConfig
from implantation.enums import SiaeKind
from implantation.settings import PROJECT_ROOT

SHIPPED = PROJECT_ROOT / "config"
VARCES = Place("CP-GRENOBLE-VARCES", "38")
MAJICAVO = Place("CP-MAJICAVO", "976")


@pytest.fixture(scope="module")
def shipped() -> ProcessConfig:
    return load_process_config(SHIPPED)


@pytest.fixture
def book(shipped: ProcessConfig) -> AmountBook:
    return AmountBook(shipped.money)


def _with_smic(money: MoneyFile, value: str) -> AmountBook:
    smic = Amount(valeur=Decimal(value), du=date(2030, 1, 1), source="SMIC d'essai")
    series = money.montant["smic_horaire_brut"].model_copy(update={"valeurs": [smic]})
    return AmountBook(money.model_copy(update={"montant": {**money.montant, "smic_horaire_brut": series}}))


def test_floor_is_rounded_up_never_under_45_percent(shipped: ProcessConfig) -> None:
    floor = rules.hourly_pay_floor(_with_smic(shipped.money, "11.65"), VARCES, date(2030, 6, 1))
    assert floor.floor == Decimal("5.25")  # 11,65 × 45 % = 5,2425 ; 5,24 would be under 45 %
    assert rules.hourly_rate_problem(Decimal("5.25"), floor) is None
    refused = rules.hourly_rate_problem(Decimal("5.24"), floor)
    assert refused is not None and "5.25" in refused and "D412-64" in refused


@pytest.mark.parametrize("smic", ["11.88", "12.02", "11.11", "10.01", "13.37"])
def test_floor_is_the_smallest_cent_amount_at_or_above_45_percent(shipped: ProcessConfig, smic: str) -> None:
    floor = rules.hourly_pay_floor(_with_smic(shipped.money, smic), VARCES, date(2030, 6, 1)).floor
    exact = Decimal(smic) * Decimal("0.45")
    assert exact <= floor < exact + Decimal("0.01")


def test_the_smic_is_shipped_with_its_decree_and_stays_in_force_until_replaced(book: AmountBook) -> None:
    smic = book.in_force("smic_horaire_brut", date(2026, 7, 14))
    assert smic.valeur == Decimal("12.02")
    assert smic.citation.startswith("Décret n° 2025-1228 du 17 décembre 2025")
    assert rules.hourly_pay_floor(book, VARCES, date(2025, 12, 31)).smic.value == Decimal("11.88")
    # No end date: a CEP starting in 2027 takes the value in force, the 2026 decree, until a new one.
    later = rules.hourly_pay_floor(book, VARCES, date(2027, 1, 11))
    assert (later.smic.value, later.floor) == (Decimal("12.02"), Decimal("5.41"))


def test_a_forecast_says_it_is_one_with_the_date_it_was_checked(book: AmountBook) -> None:
    """A day past the usual revaluation date of 1 January, checked on 6 December 2026, is a hypothesis."""
    figure = book.figure("smic_horaire_brut", date(2027, 3, 1))
    assert figure.hypothesis and figure.note == (
        "hypothèse : montant en vigueur au 06/12/2026 (Décret n° 2025-1228 du 17 décembre 2025 portant "
        "relèvement du salaire minimum de croissance, article 1er)"
    )
    assert not book.figure("smic_horaire_brut", date(2026, 12, 14)).hypothesis
    assert book.figure("smic_horaire_brut", date(2026, 12, 14), forecast=True).hypothesis
    assert not book.figure("part_smic_remuneration_minimale", date(2030, 1, 1)).hypothesis  # no revaluation


def test_a_day_before_every_value_is_refused_naming_the_amount_and_the_command(book: AmountBook) -> None:
    with pytest.raises(rules.RuleError) as refused:
        book.in_force("smic_horaire_brut", date(2020, 1, 1))
    assert str(refused.value).startswith(
        "aucune valeur « SMIC horaire brut (métropole et outre-mer hors Mayotte) » en vigueur au 01/01/2020 : "
        "ajoutez-la avec son texte (siae montants ajouter smic_horaire_brut VALEUR --du AAAA-MM-JJ"
    )


def test_aide_au_poste_from_its_right_start_dates_and_mayotte(book: AmountBook) -> None:
    """Arrêté du 4 décembre 2024: ACI and EI from 1 November 2024, EI raised again on 1 January 2025."""
    aci = rules.aide_au_poste(book, SiaeKind.ACI, VARCES, Decimal(1), date(2024, 11, 15), None)
    assert aci.socle.value == Decimal("23921") and aci.socle.amount.date_source == date(2024, 12, 4)
    assert rules.aide_au_poste(
        book, SiaeKind.ACI, VARCES, Decimal(1), date(2024, 10, 31), None
    ).socle.value == (Decimal("23458"))
    ei = [
        rules.aide_au_poste(book, SiaeKind.EI, VARCES, Decimal(1), day, None).socle.value
        for day in (
            date(2024, 12, 1),
            date(2025, 1, 1),
            date(2027, 2, 1),
        )
    ]
    assert ei == [Decimal("12459"), Decimal("13304"), Decimal("13304")]
    mayotte = rules.aide_au_poste(book, SiaeKind.ACI, MAJICAVO, Decimal(1), date(2026, 3, 1), None)
    assert mayotte.socle.value == Decimal("18070")
    assert rules.hourly_pay_floor(book, MAJICAVO, date(2026, 3, 1)).smic.value == Decimal("9.33")


def test_an_added_value_applies_from_its_date_and_a_later_entry_corrects_it(shipped: ProcessConfig) -> None:
    def added(value: str, rank: int) -> Added:
        amount = Amount(
            valeur=Decimal(value),
            du=date(2027, 1, 1),
            source="Décret d'essai",
            date_source=date(2026, 12, 17),
        )
        return Added("smic_horaire_brut", amount, rank=rank)

    book = AmountBook(shipped.money, [added("12.05", 1)])
    assert rules.hourly_pay_floor(book, VARCES, date(2027, 3, 1)).floor == Decimal("5.43")
    assert rules.hourly_pay_floor(book, VARCES, date(2026, 12, 31)).floor == Decimal("5.41")
    corrected = AmountBook(shipped.money, [added("12.05", 1), added("12.50", 2)])
    assert rules.hourly_pay_floor(corrected, VARCES, date(2027, 3, 1)).floor == Decimal("5.63")  # 5,625 up


def test_every_contribution_the_css_sets_is_shipped_with_its_article_and_bearer(
    shipped: ProcessConfig,
) -> None:
    contributions = {k: s.cotisation for k, s in shipped.money.montant.items() if s.cotisation is not None}
    assert set(contributions) == {
        "cotisation_maladie",
        "cotisation_csa",
        "cotisation_vieillesse_plafonnee_patronale",
        "cotisation_vieillesse_plafonnee_salariale",
        "cotisation_vieillesse_deplafonnee_patronale",
        "cotisation_vieillesse_deplafonnee_salariale",
        "taux_atmp",
    }
    assert all(meta is not None and "sécurité sociale" in meta.article for meta in contributions.values())
    assert contributions["cotisation_maladie"].article.endswith("R382-132")  # type: ignore[union-attr]
    atmp = shipped.money.montant["taux_atmp"]
    assert atmp.par_etablissement and atmp.valeurs == []  # per establishment, with its notice
    assert {"cotisations_mayotte", "csg_crds", "assurance_chomage"} <= set(shipped.money.absent)


def test_monthly_contributions_of_a_cep_with_the_old_age_floor(book: AmountBook) -> None:
    """24 h a week at 5,41 €: 562,64 € gross; old age on 50 × 12,02 € = 601 € (L382-40, D382-35)."""
    with_atmp = AmountBook(
        book.money,
        [
            Added(
                "taux_atmp",
                Amount(valeur=Decimal("0.015"), du=date(2026, 1, 1), source="Notification"),
                "CP-1",
            )
        ],
    )
    pay = rules.monthly_pay(with_atmp, Place("CP-1", "33"), date(2026, 3, 1), Decimal("5.41"), Decimal(24))
    assert (pay.gross, pay.old_age_floor) == (Decimal("562.64"), Decimal("601.00"))
    by_key = {line.key: (line.base, line.amount) for line in pay.lines}
    assert by_key["cotisation_maladie"] == (Decimal("562.64"), Decimal("23.63"))
    assert by_key["cotisation_vieillesse_plafonnee_salariale"] == (Decimal("601.00"), Decimal("41.47"))
    assert by_key["taux_atmp"] == (Decimal("562.64"), Decimal("8.44"))
    assert pay.net == Decimal("562.64") - Decimal("41.47") - Decimal("2.40")


def test_without_the_establishment_s_atmp_rate_or_in_mayotte_the_contributions_are_refused(
    book: AmountBook,
) -> None:
    with pytest.raises(rules.RuleError, match=r"taux notifié à l'établissement.*pour l'établissement CP-X"):
        rules.monthly_pay(book, Place("CP-X", "33"), date(2026, 3, 1), Decimal("5.41"), Decimal(24))
    with pytest.raises(rules.RuleError, match="cotisations sociales à Mayotte : Mayotte a son propre régime"):
        rules.monthly_pay(book, MAJICAVO, date(2026, 3, 1), Decimal("4.20"), Decimal(24))


def test_usual_revaluation_date_passed_is_reported(book: AmountBook) -> None:
    assert book.overdue("smic_horaire_brut", date(2026, 12, 31)) is None
    assert book.overdue("smic_horaire_brut", date(2027, 1, 2)) == date(2027, 1, 1)
    assert book.overdue("aide_au_poste_socle_aci", date(2026, 12, 6)) is None  # checked that day
    checked = AmountBook(book.money, checks={"smic_horaire_brut": date(2027, 1, 15)})
    assert checked.overdue("smic_horaire_brut", date(2027, 2, 1)) is None


def test_the_demonstration_values_are_flagged_and_a_view_knows_it_used_one(demo_cfg: ProcessConfig) -> None:
    demo = AmountBook(demo_cfg.money)
    assert all(a.demonstration for a in demo_cfg.money.montant["taux_atmp"].valeurs)
    view = demo.tracking()
    rules.hourly_pay_floor(view, VARCES, date(2026, 12, 1))
    assert not view.demonstration
    rules.monthly_pay(view, VARCES, date(2026, 12, 1), Decimal("5.41"), Decimal(24))
    assert view.demonstration and not demo.tracking().demonstration


@pytest.mark.parametrize(
    ("block", "message"),
    [
        (
            '[[montant.smic_horaire_brut.valeurs]]\nvaleur = "12.10"\ndu = 2026-01-01\n'
            'source = "DÉMONSTRATION : essai"\ndemonstration = true\n',
            "deux valeurs à compter du 2026-01-01",
        ),
        (
            '[[montant.smic_horaire_brut.valeurs]]\nvaleur = "12.10"\ndu = 2027-01-01\nsource = "Essai"\n'
            "demonstration = true\n",
            "une valeur de démonstration, et elle seule, a une source qui commence par « DÉMONSTRATION »",
        ),
        (
            '[[montant.inconnu.valeurs]]\nvaleur = "1"\ndu = 2027-01-01\nsource = "DÉMONSTRATION : x"\n'
            "demonstration = true\n",
            "montant de démonstration inconnu : inconnu",
        ),
    ],
)
def test_a_broken_demonstration_file_is_refused_in_french(tmp_path: Path, block: str, message: str) -> None:
    extra = tmp_path / "extra.toml"
    extra.write_text(block, encoding="utf-8")
    with pytest.raises(ConfigError) as refused:
        config_copy(SHIPPED, tmp_path / "config", extra)
    assert message in str(refused.value)


def test_the_file_refuses_a_decree_without_its_date_and_a_key_without_values() -> None:
    with pytest.raises(ValueError, match="indiquer la date du texte"):
        Amount(valeur=Decimal(1), du=date(2027, 1, 1), source="Décret sans date")
    with pytest.raises(ValueError, match="au moins une valeur sourcée"):
        AmountSeries(libelle="x", unite="euro")
