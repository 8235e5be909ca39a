"""The forecast budget of a project, years 1 and 2: one computation for every table of the DUI and the stage-3 gate.

The guide asks for a return on investment in about two years (stage 2 criteria, stage 3 budget). Each
year adds, to the lines the SIAE entered (dossier key ``budget``, ``annee`` 1 or 2):

- a charge: the opérateurs' pay as the SIAE bears it (:func:`~implantation.contract_rules.operator_pay_charge`):
  net pay reimbursed to the establishment for an ACI (the establishment bears the contributions, guide D.2),
  gross pay plus the employer's contributions for an EI; ETP × full-time hours × the hourly floor;
- a resource, requested: the aide au poste (ETP × socle of the SIAE kind, plus the modulated part);
- year 1 only, a resource, requested: the ATIGIP aide au démarrage.

A budget is a forecast: every computed amount is the latest value known, printed as « hypothèse : montant
en vigueur au JJ/MM/AAAA (texte) ». The balance warns when year 2 is not balanced, and when the aids
requested exceed the charges of a year (what a DDETS reads as over-compensation).

Pure computation: the stage-3 gate description prints :func:`balance_lines`, the DUI prints the same years.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from implantation import contract_rules as rules
from implantation.amounts import AmountBook, Place
from implantation.db.models import Establishment, ImplantationProject, Siae
from implantation.documents.formatting import fr_date, fr_money, fr_number
from implantation.enums import SiaeKind

YEARS = (1, 2)


@dataclass(frozen=True)
class Line:
    label: str
    amount: Decimal
    note: str = ""  # for a computed amount: its text, or « hypothèse : … »
    aid: bool = False  # an aid requested from the State (aide au poste, aide au démarrage)

    @property
    def text(self) -> str:
        return f"{self.label} ({self.note})" if self.note else self.label


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
    def aids_total(self) -> Decimal:
        return sum((line.amount for line in self.resources if line.aid), Decimal(0))

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
    book: AmountBook,
    kind: SiaeKind,
    place: Place,
    etp: Decimal,
    modulated_share: Decimal | None,
    start: date,
    lines: list[dict[str, str]],
) -> list[YearBalance]:
    """Years 1 and 2 from ``start``; raises :class:`~implantation.contract_rules.RuleError` on a missing amount."""
    balances = []
    for year in YEARS:
        on = rules.add_years(start, year - 1)
        pay = rules.operator_pay_charge(book, kind, place, on, etp, forecast=True)
        what = (
            "rémunérations nettes des opérateurs, remboursées à l'établissement"
            if pay.net_only
            else "rémunérations brutes et cotisations patronales des opérateurs"
        )
        pay_line = Line(
            f"{what[0].upper()}{what[1:]} ({fr_number(pay.hours)} h à {fr_money(pay.floor.floor)}, "
            f"{(pay.floor.share.value * 100).normalize()} % du SMIC)",
            pay.charge,
            pay.floor.smic.note,
        )
        aid = rules.aide_au_poste(book, kind, place, etp, on, modulated_share, forecast=True)
        resources = [Line("Aide au poste (DREETS), sollicitée", aid.total, aid.socle.note, aid=True)]
        if year == 1:
            startup = book.figure("aide_au_demarrage_atigip", on, forecast=True)
            resources.append(
                Line("Aide au démarrage (ATIGIP), sollicitée", startup.value, startup.note, aid=True)
            )
        charges = [pay_line, *_entered(lines, year, "charge")]
        balances.append(YearBalance(year, on, charges, resources + _entered(lines, year, "ressource")))
    return balances


def year_two_warning(balances: list[YearBalance]) -> str | None:
    """The guide's 2-year return on investment, in figures, when year 2 is not balanced."""
    second = next((b for b in balances if b.year == 2), None)
    if second is None or second.balanced:
        return None
    return (
        f"Attention : l'année 2 n'est pas équilibrée (charges {fr_money(second.charges_total)}, ressources "
        f"{fr_money(second.resources_total)}, besoin de financement {fr_money(-second.balance)}) ; le guide "
        "attend un retour sur investissement en 2 ans environ."
    )


def over_compensation_warnings(balances: list[YearBalance]) -> list[str]:
    """The aids requested must not exceed the charges they finance."""
    return [
        f"Attention : en année {b.year}, les aides sollicitées ({fr_money(b.aids_total)}) dépassent les "
        f"charges ({fr_money(b.charges_total)}) de {fr_money(b.aids_total - b.charges_total)} : la DDETS y "
        "lira une surcompensation ; revoir les postes (ETP), la part modulée demandée ou les charges."
        for b in balances
        if b.aids_total > b.charges_total
    ]


def warnings(balances: list[YearBalance]) -> list[str]:
    second = year_two_warning(balances)
    return [*over_compensation_warnings(balances), *([second] if second else [])]


def balance_lines(balances: list[YearBalance]) -> list[str]:
    """One French line per year, then the warnings: what the stage-3 gate and the DUI print."""
    lines = []
    for b in balances:
        verdict = (
            "équilibré" if b.balance == 0 else ("excédent" if b.balance > 0 else "besoin de financement")
        )
        lines.append(
            f"Année {b.year} (à partir du {fr_date(b.start)}) : charges {fr_money(b.charges_total)}, "
            f"ressources {fr_money(b.resources_total)} dont aides sollicitées {fr_money(b.aids_total)}, "
            f"solde {fr_money(b.balance)} ({verdict})"
        )
    return [*lines, *warnings(balances)]


def project_place(establishment: Establishment) -> Place:
    return Place(establishment.code, establishment.departement)


def project_balances(
    book: AmountBook, project: ImplantationProject, siae: Siae | None, establishment: Establishment
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
            book,
            siae.kind,
            project_place(establishment),
            Decimal(str(project.insertion_posts_etp)),
            share,
            project.launch_date,
            project.budget_lines or [],
        )
    except rules.RuleError as exc:
        return [], [f"Solde non calculable : {exc}."]
    return balances, []


def project_balance_lines(
    book: AmountBook, project: ImplantationProject, siae: Siae | None, establishment: Establishment
) -> list[str]:
    """The balance of a project as recorded, or what is missing to compute it: the stage-3 gate and the DUI."""
    balances, problems = project_balances(book, project, siae, establishment)
    return problems or balance_lines(balances)
