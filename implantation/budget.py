"""The guide's budget check: is the activity balanced in year 1 and, above all, in year 2?

The guide asks for a return on investment in about two years (stage 2 criteria, stage 3 budget). Each
year adds, to the lines the SIAE entered (dossier key ``budget``, ``annee`` 1 or 2):

- a charge: the opérateurs' pay that the EP advances and the SIAE reimburses, at least ETP × full-time
  hours in an SIAE × the hourly floor (SMIC in force × 45 %, D412-64), all from ``config/montants.toml``;
- a resource: the aide au poste (ETP × socle of the SIAE kind, plus the modulated part), computed with
  the amounts in force at the start of that year;
- year 1 only, a resource: the ATIGIP aide au démarrage.

Pure computation: the stage-3 gate description and the DUI print :func:`balance_lines`.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from implantation import contract_rules as rules
from implantation.config.schema import MoneyFile
from implantation.db.models import ImplantationProject, Siae
from implantation.documents.formatting import fr_money
from implantation.enums import SiaeKind

YEARS = (1, 2)


@dataclass(frozen=True)
class Line:
    label: str
    amount: Decimal


@dataclass(frozen=True)
class YearBalance:
    year: int
    start: date
    charges: list[Line]
    resources: list[Line]

    @property
    def charges_total(self) -> Decimal:
        return sum((line.amount for line in self.charges), Decimal(0))

    @property
    def resources_total(self) -> Decimal:
        return sum((line.amount for line in self.resources), Decimal(0))

    @property
    def balance(self) -> Decimal:
        return self.resources_total - self.charges_total

    @property
    def balanced(self) -> bool:
        return self.balance >= 0


def _entered(lines: list[dict[str, str]], year: int, nature: str) -> list[Line]:
    return [
        Line(line["libelle"], Decimal(line["montant"]))
        for line in lines
        if line.get("nature") == nature and int(line.get("annee") or 1) == year
    ]


def budget_balance(
    money: MoneyFile,
    kind: SiaeKind,
    etp: Decimal,
    modulated_share: Decimal | None,
    start: date,
    lines: list[dict[str, str]],
) -> list[YearBalance]:
    """Years 1 and 2 from ``start``; raises :class:`~implantation.contract_rules.RuleError` on a config gap."""
    balances = []
    for year in YEARS:
        on = rules.add_years(start, year - 1)
        floor = rules.hourly_pay_floor(money, on)
        hours = rules.amount_on(
            money.heures_temps_plein_annuel, on, "heures d'un temps plein", "heures_temps_plein_annuel"
        )
        pay = rules.to_cents(etp * hours.valeur * floor.floor)
        aid = rules.aide_au_poste(money, kind, etp, on, modulated_share)
        resources = [Line("Aide au poste (DREETS)", aid.total)]
        if year == 1:
            startup = rules.amount_on(
                money.aide_au_demarrage_atigip, on, "aide au démarrage", "aide_au_demarrage_atigip"
            )
            resources.append(Line("Aide au démarrage (ATIGIP)", startup.valeur))
        charges = [
            Line("Rémunérations des opérateurs remboursées à l'établissement (au taux plancher)", pay),
            *_entered(lines, year, "charge"),
        ]
        balances.append(YearBalance(year, on, charges, resources + _entered(lines, year, "ressource")))
    return balances


def _money(value: Decimal) -> str:
    return fr_money(value)


def year_two_warning(balances: list[YearBalance]) -> str | None:
    """The guide's 2-year return on investment, in figures, when year 2 is not balanced."""
    second = next((b for b in balances if b.year == 2), None)
    if second is None or second.balanced:
        return None
    return (
        f"Attention : l'année 2 n'est pas équilibrée (charges {_money(second.charges_total)}, ressources "
        f"{_money(second.resources_total)}, besoin de financement {_money(-second.balance)}) ; le guide "
        "attend un retour sur investissement en 2 ans environ."
    )


def balance_lines(balances: list[YearBalance]) -> list[str]:
    """One French line per year, then the warning if any: what a gate description or the DUI prints."""
    lines = []
    for b in balances:
        verdict = (
            "équilibré" if b.balance == 0 else ("excédent" if b.balance > 0 else "besoin de financement")
        )
        lines.append(
            f"Année {b.year} (à partir du {b.start:%d/%m/%Y}) : charges {_money(b.charges_total)}, ressources "
            f"{_money(b.resources_total)}, solde {_money(b.balance)} ({verdict})"
        )
    warning = year_two_warning(balances)
    return [*lines, warning] if warning else lines


def project_balances(
    money: MoneyFile, project: ImplantationProject, siae: Siae | None
) -> tuple[list[YearBalance], list[str]]:
    """The two years of a project as recorded, or why they cannot be computed (with the dossier keys)."""
    missing = []
    if siae is None:
        missing.append("la SIAE retenue (siae_retenue)")
    if project.insertion_posts_etp is None:
        missing.append("les postes d'insertion en ETP (postes_etp)")
    if project.launch_date is None:
        missing.append("la date de démarrage prévue (date_demarrage_prevue)")
    if not project.budget_lines:
        missing.append("le budget prévisionnel (budget)")
    if missing:
        return [], ["Solde non calculable, il manque : " + ", ".join(missing) + "."]
    assert siae is not None and project.insertion_posts_etp is not None and project.launch_date is not None
    share = Decimal(str(project.modulated_share)) if project.modulated_share is not None else None
    try:
        balances = budget_balance(
            money,
            siae.kind,
            Decimal(str(project.insertion_posts_etp)),
            share,
            project.launch_date,
            project.budget_lines or [],
        )
    except rules.RuleError as exc:
        return [], [f"Solde non calculable : {exc}."]
    return balances, []


def project_balance_lines(money: MoneyFile, project: ImplantationProject, siae: Siae | None) -> list[str]:
    """The balance of a project as recorded, or what is missing to compute it: the stage-3 gate and the DUI."""
    balances, problems = project_balances(money, project, siae)
    return problems or balance_lines(balances)
