"""The 2-year budget: one computation of the pay as the SIAE bears it and of the aids, year 2 and over-compensation warned."""

from datetime import date
from decimal import Decimal

from implantation.amounts import Added, AmountBook, Place
from implantation.budget import (
    balance_lines,
    budget_balance,
    project_balance_lines,
    warnings,
    year_two_warning,
)
from implantation.config.schema import Amount, ProcessConfig
from implantation.db.models import Establishment, ImplantationProject, Siae
from implantation.enums import EstablishmentType, SiaeKind

LINES = [
    {"nature": "charge", "libelle": "Encadrement", "montant": "95000", "annee": "1"},
    {"nature": "charge", "libelle": "Frais de structure affectés", "montant": "80000", "annee": "1"},
    {"nature": "ressource", "libelle": "Ventes", "montant": "40000", "annee": "1"},
    {"nature": "charge", "libelle": "Encadrement", "montant": "97000", "annee": "2"},
    {"nature": "charge", "libelle": "Frais de structure affectés", "montant": "82000", "annee": "2"},
    {"nature": "ressource", "libelle": "Ventes", "montant": "55000", "annee": "2"},
    {"nature": "charge", "libelle": "Sans année : année 1", "montant": "1000"},
]
VARCES = Place("CP-GRENOBLE-VARCES", "38")


def test_each_year_adds_the_net_pay_of_an_aci_and_the_aids_as_hypotheses(cfg: ProcessConfig) -> None:
    book = AmountBook(cfg.money)
    first, second = budget_balance(book, SiaeKind.ACI, VARCES, Decimal(8), None, date(2027, 1, 11), LINES)
    gross = Decimal(8) * 1350 * Decimal("5.41")  # ETP × full-time hours × 45 % of the 12,02 € SMIC in force
    employee = Decimal("4031.53") + Decimal("233.71")  # 6,90 % and 0,40 % (CSS D242-4) of 58 428 €
    aid = Decimal(23921) * 8 * Decimal("1.05")  # ACI socle × ETP, plus the 5 % cap in detention
    assert first.charges[0].amount == gross - employee
    assert first.charges[0].note.startswith(
        "hypothèse : montant en vigueur au 06/12/2026 (Décret n° 2025-1228"
    )
    assert first.charges_total == gross - employee + 95000 + 80000 + 1000
    assert first.resources_total == aid + 3000 + 40000  # aide au démarrage: year 1 only
    assert first.aids_total == aid + 3000
    assert (second.start, second.charges_total, second.resources_total) == (
        date(2028, 1, 11),
        gross - employee + 97000 + 82000,
        aid + 55000,
    )
    assert year_two_warning([first, second]) is None and warnings([first, second]) == []
    text = balance_lines([first, second])[1].replace("\u202f", " ").replace("\xa0", " ")
    assert text == (
        "Année 2 (à partir du 11 janvier 2028) : charges 233 162,76 €, ressources 255 936,40 € dont aides "
        "sollicitées 200 936,40 €, solde 22 773,64 € (excédent)"
    )


def test_an_ei_bears_gross_pay_and_the_employer_s_contributions_with_its_atmp_rate(
    cfg: ProcessConfig,
) -> None:
    atmp = Added(
        "taux_atmp",
        Amount(valeur=Decimal("0.02"), du=date(2026, 1, 1), source="Notification CARSAT"),
        VARCES.establishment,
    )
    book = AmountBook(cfg.money, [atmp])
    (first, _) = budget_balance(book, SiaeKind.EI, VARCES, Decimal(1), None, date(2027, 1, 11), LINES)
    gross = Decimal(1350) * Decimal("5.41")  # 7 303,50 €
    employer = Decimal("0.042") + Decimal("0.003") + Decimal("0.0855") + Decimal("0.0211") + Decimal("0.02")
    assert first.charges[0].label.startswith("Rémunérations brutes et cotisations patronales des opérateurs")
    assert abs(first.charges[0].amount - gross * (1 + employer)) < Decimal(
        "0.03"
    )  # each line rounded to the cent


def test_an_unbalanced_second_year_and_aids_above_charges_are_warned_with_figures(cfg: ProcessConfig) -> None:
    book = AmountBook(cfg.money)
    lines = [{"nature": "charge", "libelle": "Encadrement", "montant": "30000", "annee": "1"}]
    balances = budget_balance(book, SiaeKind.ACI, VARCES, Decimal(8), None, date(2027, 1, 11), lines)
    found = warnings(balances)
    assert found[0].startswith("Attention : en année 1, les aides sollicitées (203")
    assert "surcompensation" in found[0]
    assert balance_lines(balances)[-len(found) :] == found
    short = budget_balance(book, SiaeKind.ACI, VARCES, Decimal(1), Decimal("0.02"), date(2027, 1, 11), LINES)
    warning = year_two_warning(short)
    assert warning is not None and warning.startswith("Attention : l'année 2 n'est pas équilibrée (charges ")


def test_a_project_without_its_inputs_says_what_to_enter(cfg: ProcessConfig) -> None:
    book = AmountBook(cfg.money)
    establishment = Establishment(
        code="CP-GRENOBLE-VARCES", name="CP", type=EstablishmentType.CP, departement="38", city="Varces"
    )
    project = ImplantationProject(
        reference="IMP", establishment_id=1, lead_id=1, started_on=date(2026, 11, 2)
    )
    assert project_balance_lines(book, project, None, establishment) == [
        "Solde non calculable, il manque : la SIAE retenue (siae_retenue), les postes d'insertion en ETP "
        "(postes_etp), la date de démarrage prévue (date_demarrage_prevue), le budget prévisionnel (budget)."
    ]
    project.insertion_posts_etp, project.launch_date, project.budget_lines = 8, date(2027, 1, 11), LINES
    siae = Siae(
        siret="00000001800010",
        name="La Remise",
        kind=SiaeKind.ACI,
        address="a",
        postal_code="38000",
        city="G",
    )
    assert len(project_balance_lines(book, project, siae, establishment)) == 2
