"""Pydantic schema of the process configuration.

Every figure carries its source so that an analyst can check it against the guide or the law.
"""

import itertools
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from implantation.enums import DocumentKind, PartyAction, Role, SiaeKind


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Range(Strict):
    min: Annotated[int, Field(ge=0)]
    max: Annotated[int, Field(ge=0)]

    @model_validator(mode="after")
    def _ordered(self) -> "Range":
        if self.min > self.max:
            raise ValueError(f"le minimum ({self.min}) dépasse le maximum ({self.max})")
        return self


class Deliverable(Strict):
    id: str
    titre: str


class DecisionKind(StrEnum):
    """Decisions whose gate does more than validate its stage, by their id in ``etapes.toml``.

    The code keys its behaviour on these ids, never on a stage number: moving a decision to another
    stage in the configuration moves its form fields, its checks and its side effects with it.
    """

    SIAE_SELECTION = "selection_siae"  # the sourced SIAEs, the one retained and its activity
    FEASIBILITY = "validation_faisabilite"  # the budget's balance over two years is shown before it
    CONVENTION_APPROVAL = "approbation_convention"  # the administrative documents are produced before it
    LAUNCH = "lancement"  # the effective start date; approving it launches the project


FactsGroup = Literal["etape1", "etape3", "etape4"]
"""The stages whose facts a gate form may collect (stage 2's form has its own fields: the SIAE choice)."""


class StageDecision(Strict):
    id: str
    titre: str
    roles: Annotated[list[Role], Field(min_length=1)]
    attendus: list[str] = []
    # Items the approver must confirm one by one before approving (the launch checklist, for instance).
    verifications: list[Deliverable] = []
    # The facts this gate's form collects: the group of ``siae projet completer`` keys of that stage
    # (implantation.dossier: etape1, etape3, etape4), shown pre-filled and saved with the decision.
    faits: FactsGroup | None = None

    @model_validator(mode="after")
    def _checklist_ids(self) -> "StageDecision":
        ids = [item.id for item in self.verifications]
        bad = [i for i in ids if not i.isidentifier() or not i.islower()]
        if bad:
            raise ValueError(
                f"identifiant de vérification invalide (minuscules, chiffres, _) : {', '.join(bad)}"
            )
        if len(set(ids)) != len(ids):
            raise ValueError("identifiants de vérification en double")
        return self


class Stage(Strict):
    numero: Annotated[int, Field(ge=1)]
    id: str
    titre: str
    pilotes: Annotated[list[Role], Field(min_length=1)]
    participants: list[Role] = []
    informes: list[Role] = []
    objectifs: list[str] = []
    actions: list[str] = []
    livrables: list[Deliverable] = []
    copil: Range | None = None
    duree_mois: Range
    source_duree: str
    decisions: Annotated[list[StageDecision], Field(min_length=1)]


class StagesFile(Strict):
    duree_minimale_projet_mois: Range
    source_duree_minimale: str
    # What a stage's pilot may approve without, with a motivated override (issue 13).
    derogation_pilote: list[Literal["copil", "livrables"]] = []
    source_derogation: str | None = None
    etape: Annotated[list[Stage], Field(min_length=1)]

    @model_validator(mode="after")
    def _facts_once(self) -> "StagesFile":
        groups = [d.faits for stage in self.etape for d in stage.decisions if d.faits is not None]
        repeated = sorted({g for g in groups if groups.count(g) > 1})
        if repeated:
            raise ValueError(f"faits « {', '.join(repeated)} » collectés par plusieurs décisions")
        return self

    @model_validator(mode="after")
    def _numbered(self) -> "StagesFile":
        numbers = [s.numero for s in self.etape]
        expected = list(range(1, len(numbers) + 1))
        if numbers != expected:
            raise ValueError(
                f"les étapes doivent être numérotées de 1 à {len(numbers)} dans l'ordre (lu : {numbers})"
            )
        return self

    @model_validator(mode="after")
    def _kinds_once(self) -> "StagesFile":
        for kind in DecisionKind:
            holders = [s.numero for s in self.etape for d in s.decisions if d.id == kind.value]
            if len(holders) != 1:
                raise ValueError(
                    f"la décision « {kind.value} » doit figurer dans exactement une étape (lue dans : {holders})"
                )
        launch = next(s.numero for s in self.etape for d in s.decisions if d.id == DecisionKind.LAUNCH)
        if launch != self.etape[-1].numero:
            raise ValueError(
                f"la décision « {DecisionKind.LAUNCH.value} » doit figurer dans la dernière étape"
            )
        return self


class DocumentSpec(Strict):
    titre: str
    base_legale: list[str]
    base_legale_par_type: dict[SiaeKind, list[str]] = {}
    parties: dict[Role, list[PartyAction]]
    duree_max_annees: int | None = None
    par_operateur: bool = False
    copie_aux_informes: bool = False
    # The administration issuing the document: its name is the author in the DOCX and PDF properties.
    emetteur: Role
    # delegate -> principal: the delegate's signature is the principal's (the DDETS signs for the préfet),
    # so the two make one signature, not two.
    delegations: dict[Role, Role] = {}

    @model_validator(mode="after")
    def _has_signers(self) -> "DocumentSpec":
        if not self.signers:
            raise ValueError("au moins une partie doit signer")
        signing = {role for role, actions in self.parties.items() if PartyAction.SIGNS in actions}
        for delegate, principal in self.delegations.items():
            if delegate not in signing or principal not in signing:
                raise ValueError(
                    f"délégation « {delegate.value} » pour « {principal.value} » : "
                    "les deux parties doivent signer le document"
                )
        return self

    @property
    def signers(self) -> list[Role]:
        """One entry per signature the document needs: a delegate is folded into its principal."""
        return [
            role
            for role, actions in self.parties.items()
            if PartyAction.SIGNS in actions and role not in self.delegations
        ]

    def signer_label(self, role: Role) -> str:
        """« Préfet (ou DDETS pour lui) »: who may give the signature of ``role``."""
        delegates = [d.label for d, principal in self.delegations.items() if principal == role]
        return role.label + (f" (ou {' ou '.join(delegates)} pour lui)" if delegates else "")

    def signs_for(self, role: Role) -> Role | None:
        """The signature ``role`` gives (its own or its principal's), or None if it does not sign."""
        if role in self.delegations:
            return self.delegations[role]
        return role if role in self.signers else None

    @property
    def recipients(self) -> list[Role]:
        return [role for role, actions in self.parties.items() if PartyAction.RECEIVES in actions]


class DocumentsFile(Strict):
    document: dict[DocumentKind, DocumentSpec]
    destinataires_documents_signes: list[Role] = []

    @model_validator(mode="after")
    def _complete(self) -> "DocumentsFile":
        missing = set(DocumentKind) - set(self.document)
        if missing:
            raise ValueError("documents manquants : " + ", ".join(sorted(missing)))
        return self


class Amount(Strict):
    """One value with the period it is in force (``du`` to ``au`` inclusive) and the text that sets it.

    ``au`` is left out only for a rule with no planned end (45 % of the SMIC); an amount revised every
    year ends on its year's last day, so that a later document is refused instead of using it.
    """

    valeur: Decimal
    du: date
    au: date | None = None
    source: str = Field(min_length=1)
    date_source: date | None = None

    @model_validator(mode="after")
    def _period(self) -> "Amount":
        if self.au is not None and self.au < self.du:
            raise ValueError(f"la date « au » ({self.au}) précède la date « du » ({self.du})")
        if self.source.lower().startswith(("décret", "arrêté")) and self.date_source is None:
            raise ValueError(f"« {self.source} » : indiquer la date du texte (date_source)")
        return self

    @property
    def citation(self) -> str:
        """The source as printed: the text, and its date when the text itself does not say it."""
        if self.date_source is None or str(self.date_source.year) in self.source:
            return self.source
        return f"{self.source} ({self.date_source.strftime('%d/%m/%Y')})"


def _disjoint(amounts: list[Amount]) -> list[Amount]:
    ordered = sorted(amounts, key=lambda a: a.du)
    for before, after in itertools.pairwise(ordered):
        if before.au is None or before.au >= after.du:
            raise ValueError(
                f"les périodes du {before.du} et du {after.du} se chevauchent (fermer la première par « au »)"
            )
    return amounts


Amounts = Annotated[list[Amount], Field(min_length=1), AfterValidator(_disjoint)]


class ContributionKind(StrEnum):
    EMPLOYEE = "salariale"
    EMPLOYER = "patronale"


class Contribution(Strict):
    """A social contribution on an opérateur's pay; its rate (fraction of gross pay) is dated like an amount."""

    libelle: str = Field(min_length=1)
    part: ContributionKind
    taux: Amounts


class MoneyFile(Strict):
    smic_horaire_brut: Amounts
    part_smic_remuneration_minimale: Amounts
    aide_au_poste_socle: dict[SiaeKind, Amounts]
    part_modulee_max_detention: Amounts
    aide_au_demarrage_atigip: Amounts
    heures_temps_plein_annuel: Amounts
    # The guide says only that specific rates apply (D.1); no rate is shipped until a sourced one is entered.
    cotisations_operateur: list[Contribution] = []


class TrialPeriodRules(Strict):
    jours_par_semaine_de_contrat: Annotated[int, Field(ge=1)]
    seuil_contrat_court_mois: Annotated[int, Field(ge=1)]
    plafond_contrat_court_jours: Annotated[int, Field(ge=1)]
    plafond_autres_cas_mois: Annotated[int, Field(ge=1)]
    delai_prevenance_heures: Annotated[int, Field(ge=0)]
    clause_renouvellement: str
    source: str


class ReimbursementRule(Strict):
    texte: str
    source: str


class Clause(Strict):
    """A standard text printed as is, with the rule or the guide passage it applies."""

    texte: str = Field(min_length=1)
    source: str = Field(min_length=1)


class SuspensionCase(Strict):
    cas: str = Field(min_length=1)
    source: str = Field(min_length=1)


class Termination(Strict):
    partie: str = Field(min_length=1)
    modalite: str = Field(min_length=1)
    source: str = Field(min_length=1)


class CepClauses(Strict):
    """Standard clauses of the CEP (R412-25); the opérateur's own values are computed around them."""

    cotisations: Clause
    jours_feries: Clause
    repos_hebdomadaire: Clause
    astreintes: Clause
    periode_essai: Clause
    suspension: Annotated[list[SuspensionCase], Field(min_length=1)]
    fin: Annotated[list[Termination], Field(min_length=1)]


class PrefectSignature(Strict):
    """The State's signature block; ``{departement}`` and ``{ddets}`` are filled from territoires.toml."""

    partie: str
    signataire: str
    source: str


class ImplantationClauses(Strict):
    preavis_denonciation_mois: Annotated[int, Field(ge=1)]
    renouvellement_tacite: str
    renouvellement_expres: str
    source_renouvellement: str
    moyens_etablissement: str
    moyens_etablissement_aci: str
    source_moyens: str


class CepAnnexClauses(Strict):
    hygiene_securite: str
    source_hygiene_securite: str
    defaut_paiement: str
    source_defaut_paiement: str


class ContractsFile(Strict):
    """Bounds and standard clauses of the stage-5 documents, each with its source."""

    periode_essai: TrialPeriodRules
    remboursement_remuneration: dict[SiaeKind, ReimbursementRule]
    cep: CepClauses
    signature_prefet: PrefectSignature
    contrat_implantation: ImplantationClauses
    annexe_cep: CepAnnexClauses


class LeavePeriod(Strict):
    nom: str
    debut_mois_jour: str | None = Field(default=None, pattern=r"^\d{2}-\d{2}$")
    fin_mois_jour: str | None = Field(default=None, pattern=r"^\d{2}-\d{2}$")
    vacances_scolaires: str | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> "LeavePeriod":
        fixed = self.debut_mois_jour is not None and self.fin_mois_jour is not None
        if fixed == (self.vacances_scolaires is not None):
            raise ValueError(
                "indiquer soit debut_mois_jour et fin_mois_jour, soit vacances_scolaires (nom des vacances)"
            )
        return self


class CalendarFile(Strict):
    periodes_a_eviter_pour_lancement: list[LeavePeriod]
    source_periodes: str
    rappel_jours_ouvres_avant_echeance: Annotated[int, Field(ge=0)]
    relance_intervalle_jours: Annotated[int, Field(ge=1)]


class EligibilityFile(Strict):
    quantum_min_mois: Annotated[int, Field(ge=0)]
    quantum_max_mois: Annotated[int, Field(ge=0)]
    accord_conjoint: list[Role]
    types_siae_implantables: list[SiaeKind]
    source: str


class Departement(Strict):
    nom: str
    region: str
    disp: str
    ddets: str
    zone_vacances: str | None = None


class Region(Strict):
    nom: str
    dreets: str


class TerritoryFile(Strict):
    source: str
    disp: dict[str, str]
    region: dict[str, Region]
    departement: dict[str, Departement]

    @model_validator(mode="after")
    def _references(self) -> "TerritoryFile":
        for code, dep in self.departement.items():
            if dep.region not in self.region:
                raise ValueError(f"département {code} : région inconnue « {dep.region} »")
            if dep.disp not in self.disp:
                raise ValueError(f"département {code} : DISP inconnue « {dep.disp} »")
        return self


class ProcessConfig(Strict):
    stages: StagesFile
    documents: DocumentsFile
    money: MoneyFile
    calendar: CalendarFile
    eligibility: EligibilityFile
    territory: TerritoryFile
    contracts: ContractsFile

    def stage(self, number: int) -> Stage:
        return self.stages.etape[number - 1]

    @property
    def stage_numbers(self) -> list[int]:
        return [stage.numero for stage in self.stages.etape]

    @property
    def last_stage(self) -> int:
        return self.stages.etape[-1].numero

    def next_stage(self, number: int) -> int | None:
        """The stage that opens when ``number`` is approved; ``None`` after the last one (launch)."""
        return number + 1 if number < self.last_stage else None

    def overridable(self, number: int) -> list[str]:
        """What the stage requires that its pilot may approve without, by a motivated override
        (``derogation_pilote``): « copil », « livrables », or nothing."""
        spec = self.stage(number)
        required = {"copil": spec.copil is not None and spec.copil.min > 0, "livrables": bool(spec.livrables)}
        return [kind for kind in self.stages.derogation_pilote if required[kind]]

    def has(self, number: int, kind: DecisionKind) -> bool:
        """Is ``kind`` decided at the gate of stage ``number``?"""
        return any(decision.id == kind.value for decision in self.stage(number).decisions)

    def stage_of(self, kind: DecisionKind) -> int:
        return next(s.numero for s in self.stages.etape for d in s.decisions if d.id == kind.value)

    def checklist(self, number: int) -> list[Deliverable]:
        """What the approver of stage ``number`` confirms item by item before approving."""
        return [item for decision in self.stage(number).decisions for item in decision.verifications]

    def deciding_roles(self, number: int) -> set[Role]:
        return {role for decision in self.stage(number).decisions for role in decision.roles}
