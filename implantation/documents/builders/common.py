"""What every stage-5 builder shares: the problem list, the project rows and the parties.

Every builder looks at all its inputs before failing, so the user gets one list of everything to fill
in, not one item per attempt. Computed figures (pay floor, trial period, aide au poste, durations) come
from :mod:`implantation.contract_rules`; a value outside a legal bound is refused with the rule named.
"""

from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar, cast

from pydantic import BaseModel
from sqlmodel import Session

from implantation import contract_rules as rules
from implantation.amounts import Place
from implantation.config.schema import ProcessConfig, ReimbursementRule
from implantation.db.models import Establishment, ImplantationProject, Operateur, OperateurIdentity, Siae
from implantation.documents import formatting as fmt
from implantation.documents.contexts import EstablishmentParty, EstablishmentRef, PayInfo, SiaeParty
from implantation.documents.parties import (
    MISSING_SIGNER,
    Parties,
    author,
    load_parties,
    recipients,
    signature_blocks,
    visas,
)
from implantation.enums import DocumentKind, OperateurStatus, Role
from implantation.fact_sources import where_to_enter
from implantation.services.amounts import amount_book
from implantation.services.errors import DomainError

DEMONSTRATION_BANNER = "DOCUMENT DE DÉMONSTRATION : montants non réglementaires, ne pas signer"

T = TypeVar("T")

# Reads shared by the documents of one pack (the amounts, the signatories): a pack of 12 CEPs would otherwise
# read them 27 times. Only inside :func:`shared_reads`; a builder called alone reads them itself.
_SHARED: ContextVar[dict[Hashable, Any] | None] = ContextVar("pack_reads", default=None)


@contextmanager
def shared_reads() -> Iterator[None]:
    token = _SHARED.set({})
    try:
        yield
    finally:
        _SHARED.reset(token)


def shared(key: Hashable, compute: Callable[[], T]) -> T:
    cache = _SHARED.get()
    if cache is None:
        return compute()
    if key not in cache:
        cache[key] = compute()
    return cast(T, cache[key])


ContextT = TypeVar("ContextT", bound=BaseModel)

SHORT_LABEL = {
    DocumentKind.DUI: "DUI",
    DocumentKind.CONVENTION: "Convention IAE",
    DocumentKind.IMPLANTATION_CONTRACT: "Contrat d'implantation",
    DocumentKind.CEP: "CEP",
    DocumentKind.CEP_ANNEX: "Annexe au CEP",
}


class DocumentDataError(DomainError):
    """Missing or out-of-bounds data; ``problems`` lists every item in French."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(
            "Documents impossibles à produire :\n" + "\n".join(f"- {problem}" for problem in problems)
        )


class Checker:
    """Collects the problems of one document instead of stopping at the first."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.problems: list[str] = []

    def need(self, value: Any, what: str) -> Any:
        if value is None or (isinstance(value, str) and not value.strip()):
            hint = where_to_enter(what)
            self.problems.append(f"{self.label} : il manque {what}" + (f" ({hint})" if hint else ""))
        return value

    def refuse(self, problem: str | None) -> None:
        if problem:
            self.problems.append(f"{self.label} : {problem}")

    def done(self) -> None:
        if self.problems:
            raise DocumentDataError(self.problems)


def exact(value: Decimal | float | int) -> Decimal:
    """The Decimal a NUMERIC column holds; SQLModel tables do not validate assignment, so a row built in
    memory may still carry the float a caller put there, which must not reach a computation unchanged."""
    return value if isinstance(value, Decimal) else Decimal(str(value))


@dataclass(frozen=True)
class BudgetItem:
    label: str
    amount: Decimal


def budget_items(
    check: Checker, raw: list[dict[str, str]] | None
) -> tuple[list[BudgetItem], list[BudgetItem]]:
    """The SIAE's own budget lines (charges, resources); an invalid line is listed, not skipped silently."""
    charges: list[BudgetItem] = []
    resources: list[BudgetItem] = []
    if not raw:
        check.need(None, "le budget prévisionnel (au moins une ligne de charges)")
        return charges, resources
    for number, line in enumerate(raw, start=1):
        if str(line.get("annee") or 1) != "1":
            continue  # year 2 is shown by implantation.budget.balance_lines, not summed with year 1
        nature, label = line.get("nature"), line.get("libelle")
        try:
            amount = Decimal(str(line.get("montant")))
        except InvalidOperation:
            amount = None
        if (
            nature not in ("charge", "ressource")
            or not label
            or amount is None
            or not amount.is_finite()
            or amount < 0
        ):
            check.refuse(
                f"la ligne {number} du budget prévisionnel est invalide (nature « charge » ou « ressource », "
                "libellé et montant positif attendus)"
            )
            continue
        (charges if nature == "charge" else resources).append(BudgetItem(label, amount))
    if not charges and not check.problems:
        check.need(None, "au moins une ligne de charges au budget prévisionnel")
    return charges, resources


class ProjectData:
    """The rows every project-level document reads, loaded once, and the amounts in force (a view that
    remembers which values it handed out, so that a document made with a demonstration value says so)."""

    def __init__(self, session: Session, project_id: int, cfg: ProcessConfig) -> None:
        project = session.get(ImplantationProject, project_id)
        if project is None:
            raise DocumentDataError([f"projet introuvable : identifiant {project_id}"])
        self.session = session
        self.project = project
        establishment = session.get(Establishment, project.establishment_id)
        assert establishment is not None
        self.establishment = establishment
        self.siae = session.get(Siae, project.siae_id) if project.siae_id is not None else None
        self.cfg = cfg
        self.book = shared("amounts", lambda: amount_book(session, cfg)).tracking()
        self.place = Place(establishment.code, establishment.departement)

    def parties(self, check: Checker) -> Parties | None:
        if self.siae is None:
            check.need(None, "la SIAE retenue pour le projet")
            return None
        siae = self.siae
        parties = shared(
            ("parties", siae.id, self.establishment.id),
            lambda: load_parties(self.session, self.cfg, siae, self.establishment),
        )
        if parties.departement is None:
            check.refuse(
                f"le département « {self.establishment.departement} » est absent de territoires.toml"
            )
        elif parties.disp_name is None:
            check.refuse(f"la DISP « {parties.departement.disp} » est absente de territoires.toml")
        self._parties = parties
        return parties

    def check_party_names(self, check: Checker, kind: DocumentKind) -> None:
        """Every signature block names a person: the préfet, the DISP's signatory, the SIAE's legal
        representative, the head of the establishment."""
        parties = getattr(self, "_parties", None)
        for role in self.cfg.documents.document[kind].signers:
            if role == Role.OPERATEUR:
                continue
            if role == Role.SIAE and self.siae is None:
                continue  # the missing SIAE is already listed
            named = parties is not None and parties.printed(role) is not None
            if named and role == Role.PREFET:  # the préfet himself is named, even when a delegate signs
                assert parties is not None
                named = any(not s.act for s in parties.signers[role].accepted)
            if not named:
                check.need(None, MISSING_SIGNER[role])

    def common(self, kind: DocumentKind, parties: Parties) -> dict[str, Any]:
        spec = self.cfg.documents.document[kind]
        siae_name = self.siae.name if self.siae is not None else ""
        return {
            "title": spec.titre,
            "subject": f"Implantation de la SIAE {siae_name} à l'établissement {self.establishment.name}",
            "author": author(spec, parties),
            "project_reference": self.project.reference,
            "visas": visas(spec, self.siae.kind if self.siae is not None else None),
            "place": self.establishment.city,
            "signatures": signature_blocks(spec, parties),
            "recipients": recipients(kind, self.cfg.documents, parties),
            "demonstration_banner": "",
        }

    def finish(self, context: ContextT) -> ContextT:
        """The banner, on every page, of a document made with an amount no text sets (checked last, once
        every amount of the document has been looked up)."""
        if not self.book.demonstration:
            return context
        return context.model_copy(update={"demonstration_banner": DEMONSTRATION_BANNER})

    def siae_party(self) -> SiaeParty:
        siae = self.siae
        assert siae is not None
        parties = getattr(self, "_parties", None)
        who = parties.printed(Role.SIAE) if parties is not None else None
        return SiaeParty(
            name=siae.name,
            kind_label=f"{siae.kind.label} ({siae.kind.value})",
            siret=siae.siret,
            address=f"{siae.address}, {siae.postal_code} {siae.city}",
            representative=who.printed if who else (siae.legal_representative or ""),
        )

    def establishment_ref(self) -> EstablishmentRef:
        establishment = self.establishment
        return EstablishmentRef(
            name=establishment.name,
            type_label=establishment.type.label,
            address=establishment_address(establishment),
        )

    def establishment_party(self) -> EstablishmentParty:
        ref = self.establishment_ref()
        return EstablishmentParty(**ref.model_dump(), head_name=self.establishment.head_name or "")

    def pay_info(self, on: date) -> PayInfo:
        """The hourly floor in force on ``on`` (a binding figure), revalued with every new SMIC."""
        floor = rules.hourly_pay_floor(self.book, self.place, on)
        clause = self.cfg.contracts.revalorisation
        return PayInfo(
            on_date=fmt.fr_date(on),
            smic=fmt.fr_money(floor.smic.value),
            smic_source=floor.smic.amount.citation,
            share_percent=fmt.fr_percent(floor.share.value),
            share_source=floor.share.amount.citation,
            floor=fmt.fr_money(floor.floor),
            floor_words=fmt.money_words(floor.floor),
            revaluation=f"{clause.texte} ({clause.source})",
        )

    def aide_au_poste(
        self, check: Checker, on: date | None, *, forecast: bool = False
    ) -> rules.AidePoste | None:
        """Yearly aide au poste on ``on``; None (the gap already listed) while its inputs are missing."""
        project, siae = self.project, self.siae
        if siae is None or on is None or project.insertion_posts_etp is None:
            return None
        etp = exact(project.insertion_posts_etp)
        modulated = exact(project.modulated_share) if project.modulated_share is not None else None
        aid: rules.AidePoste | None = self.rule(
            check,
            lambda: rules.aide_au_poste(
                self.book, siae.kind, self.place, etp, on, modulated, forecast=forecast
            ),
        )
        if aid is not None:
            check.refuse(rules.modulated_share_problem(aid.modulated_share, aid.cap))
        return aid

    def reimbursement(self, check: Checker) -> ReimbursementRule | None:
        """How the SIAE pays the opérateurs' wages back to the EP, by its kind (contrats.toml)."""
        if self.siae is None:
            return None  # the missing SIAE is already listed by parties()
        rule = self.cfg.contracts.remboursement_remuneration.get(self.siae.kind)
        if rule is None:
            check.refuse(
                f"aucune règle de remboursement pour une SIAE de type {self.siae.kind.value} dans contrats.toml"
            )
        return rule

    def rule(self, check: Checker, compute: Callable[[], Any]) -> Any:
        """A computed value; a missing amount becomes one more listed problem."""
        try:
            return compute()
        except rules.RuleError as exc:
            check.refuse(str(exc))
            return None


def establishment_address(establishment: Establishment) -> str:
    """The address, with the city once: an address typed with its postal code and city keeps them."""
    if not establishment.address:
        return establishment.city
    if establishment.city.casefold() in establishment.address.casefold():
        return establishment.address
    return f"{establishment.address}, {establishment.city}"


class OperateurData:
    """An opérateur under CEP; the identity row is read here, at rendering, and nowhere else."""

    def __init__(self, session: Session, data: ProjectData, operateur_id: str, check: Checker) -> None:
        op = session.get(Operateur, operateur_id)
        if op is None or op.project_id != data.project.id:
            raise DocumentDataError([f"{check.label} : opérateur {operateur_id} inconnu pour ce projet"])
        self.op = op
        if op.status != OperateurStatus.ASSIGNED:
            check.refuse(
                f"l'opérateur {op.id} a le statut « {op.status.label} » : un CEP n'est établi qu'après "
                f"affectation (statut « {OperateurStatus.ASSIGNED.label} »)"
            )
        self.identity = session.get(OperateurIdentity, operateur_id)
        check.need(self.identity, f"l'identité de l'opérateur {op.id}")
        check.need(op.contract_start, "la date de début d'activité")
        check.need(op.weekly_hours, "la durée hebdomadaire de travail")
        check.need(op.post_title, "l'intitulé du poste")
        self.hourly_rate: Decimal | None = None
        self.floor = None
        if (start := op.contract_start) is not None:
            self.floor = data.rule(check, lambda: rules.hourly_pay_floor(data.book, data.place, start))
            if self.floor is not None:
                self.hourly_rate = exact(op.hourly_rate) if op.hourly_rate is not None else self.floor.floor
                check.refuse(rules.hourly_rate_problem(self.hourly_rate, self.floor))

    def worker_name(self) -> str:
        assert self.identity is not None
        return f"{self.identity.first_name} {self.identity.last_name}"


@dataclass
class OperateurDocument:
    """The start every per-opérateur document shares (CEP, its annex): same rows, same checks, same order."""

    data: ProjectData
    check: Checker
    parties: Parties | None
    operateur: OperateurData


def open_operateur_document(
    session: Session, project_id: int, operateur_id: str, cfg: ProcessConfig, kind: DocumentKind
) -> OperateurDocument:
    data = ProjectData(session, project_id, cfg)
    check = Checker(f"{SHORT_LABEL[kind]} {operateur_id}")
    parties = data.parties(check)
    data.check_party_names(check, kind)
    return OperateurDocument(data, check, parties, OperateurData(session, data, operateur_id, check))
