"""The 2-year budget check: computed charges and aids added to the entered lines, year 2 warned about."""

from datetime import date
from decimal import Decimal

from implantation.budget import balance_lines, budget_balance, project_balance_lines, year_two_warning
from implantation.config.schema import ProcessConfig
from implantation.db.models import ImplantationProject, Siae
from implantation.enums import SiaeKind

LINES = [
    {"nature": "charge", "libelle": "Encadrement", "montant": "95000", "annee": "1"},
    {"nature": "ressource", "libelle": "Ventes", "montant": "40000", "annee": "1"},
    {"nature": "charge", "libelle": "Encadrement", "montant": "97000", "annee": "2"},
    {"nature": "charge", "libelle": "Sans année : année 1", "montant": "1000"},
]


def test_each_year_adds_the_pay_floor_and_the_aids_in_force(demo_cfg: ProcessConfig) -> None:
    cfg = demo_cfg  # documents and budgets dated 2027-2028: the demonstration amounts
    first, second = budget_balance(cfg.money, SiaeKind.ACI, Decimal(8), None, date(2028, 1, 10), LINES)
    pay = Decimal(8) * 1350 * Decimal("5.41")  # ETP × full-time hours × 45 % of a 12.02 € SMIC
    aid = Decimal(23921) * 8 * Decimal("1.05")  # ACI socle × ETP, plus the 5 % cap in detention
    assert first.charges_total == pay + 95000 + 1000
    assert first.resources_total == aid + 3000 + 40000  # aide au démarrage: year 1 only
    assert (second.start, second.charges_total, second.resources_total) == (
        date(2029, 1, 10),
        pay + 97000,
        aid,
    )
    assert second.balanced and year_two_warning([first, second]) is None
    text = balance_lines([first, second])[1].replace("\u202f", " ").replace("\xa0", " ")
    assert text == (
        "Année 2 (à partir du 10/01/2029) : charges 155 428,00 €, ressources 200 936,40 €, "
        "solde 45 508,40 € (excédent)"
    )


def test_an_unbalanced_second_year_is_warned_with_figures(demo_cfg: ProcessConfig) -> None:
    cfg = demo_cfg  # documents and budgets dated 2027-2028: the demonstration amounts
    balances = budget_balance(cfg.money, SiaeKind.EI, Decimal(1), Decimal("0.02"), date(2028, 1, 10), LINES)
    warning = year_two_warning(balances)
    assert warning is not None and warning.startswith("Attention : l'année 2 n'est pas équilibrée (charges ")
    assert "besoin de financement" in warning and balance_lines(balances)[-1] == warning


def test_a_project_without_its_inputs_says_what_to_enter(demo_cfg: ProcessConfig) -> None:
    cfg = demo_cfg  # documents and budgets dated 2027-2028: the demonstration amounts
    project = ImplantationProject(reference="IMP", establishment_id=1, lead_id=1, started_on=date(2027, 1, 4))
    assert project_balance_lines(cfg.money, project, None) == [
        "Solde non calculable, il manque : la SIAE retenue (siae_retenue), les postes d'insertion en ETP "
        "(postes_etp), la date de démarrage prévue (date_demarrage_prevue), le budget prévisionnel (budget)."
    ]
    project.insertion_posts_etp, project.launch_date, project.budget_lines = 8, date(2028, 1, 10), LINES
    siae = Siae(
        siret="00000001800010",
        name="La Remise",
        kind=SiaeKind.ACI,
        address="a",
        postal_code="38000",
        city="G",
    )
    assert len(project_balance_lines(cfg.money, project, siae)) == 2
