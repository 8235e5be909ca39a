"""Pydantic schema of the process configuration.

Every figure carries its source so that an analyst can check it against the guide or the law.
"""

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
    # What a stage's pilot may approve without, with a motivated override.
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
    """One value and the text that sets it, in force from ``du`` until a later value replaces it.

    No end date is invented: an amount fixed by a decree or an arrêté stays in force until the next text.
    ``au`` is written only when a text itself ends the value. ``demonstration`` marks a value that no text
    sets (``config/echantillons/montants_demonstration.toml``): a document using it cannot be signed.
    """

    valeur: Decimal
    du: date
    au: date | None = None
    source: str = Field(min_length=1)
    date_source: date | None = None
    demonstration: bool = False

    @model_validator(mode="after")
    def _period(self) -> "Amount":
        if self.au is not None and self.au < self.du:
            raise ValueError(f"la date « au » ({self.au}) précède la date « du » ({self.du})")
        if self.source.lower().startswith(("décret", "arrêté")) and self.date_source is None:
            raise ValueError(f"« {self.source} » : indiquer la date du texte (date_source)")
        if self.demonstration != self.source.startswith("DÉMONSTRATION"):
            raise ValueError(
                f"« {self.source} » : une valeur de démonstration, et elle seule, a une source qui commence "
                "par « DÉMONSTRATION »"
            )
        return self

    @property
    def citation(self) -> str:
        """The source as printed: the text, and its date when the text itself does not say it."""
        if self.date_source is None or str(self.date_source.year) in self.source:
            return self.source
        return f"{self.source} ({self.date_source.strftime('%d/%m/%Y')})"


def _one_per_date(amounts: list[Amount]) -> list[Amount]:
    days = [a.du for a in amounts]
    doubles = sorted({d for d in days if days.count(d) > 1})
    if doubles:
        raise ValueError(f"deux valeurs à compter du {doubles[0]} : une seule valeur par date")
    return sorted(amounts, key=lambda a: a.du)


Amounts = Annotated[list[Amount], AfterValidator(_one_per_date)]


class ContributionKind(StrEnum):
    EMPLOYEE = "salariale"
    EMPLOYER = "patronale"


class ContributionBase(StrEnum):
    """What a contribution rate applies to (CSS L382-40: the old-age base is at least D382-35's floor)."""

    GROSS = "brut"
    OLD_AGE = "vieillesse"
    OLD_AGE_CAPPED = "vieillesse_plafonnee"


class ContributionMeta(Strict):
    part: ContributionKind
    assiette: ContributionBase
    article: str = Field(min_length=1)


_REVALUATION = r"^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$"


class AmountSeries(Strict):
    """A legal amount: its label, when it is usually revalued, when it was last checked, and its values."""

    libelle: str = Field(min_length=1)
    unite: Literal["euro", "taux", "nombre"]
    revalorisation: str | None = Field(default=None, pattern=_REVALUATION)
    verifie_le: date | None = None
    # The AT/MP rate depends on the employer: entered per establishment, none is national.
    par_etablissement: bool = False
    cotisation: ContributionMeta | None = None
    valeurs: Amounts = []

    @model_validator(mode="after")
    def _values(self) -> "AmountSeries":
        if not self.valeurs and not self.par_etablissement:
            raise ValueError("au moins une valeur sourcée (valeurs) est attendue")
        return self


class MoneyFile(Strict):
    """``montants.toml``: every legal amount by key, and what is not shipped, with the reason."""

    montant: dict[str, AmountSeries]
    absent: dict[str, str] = {}

    @model_validator(mode="after")
    def _keys(self) -> "MoneyFile":
        bad = [k for k in self.montant if not k.isidentifier() or not k.islower()]
        if bad:
            raise ValueError(f"clé de montant invalide (minuscules, chiffres, _) : {', '.join(bad)}")
        return self

    def with_demonstration(self, overlay: "DemonstrationAmounts") -> "MoneyFile":
        """The file plus the demonstration values, each flagged, for the years and rates no text covers."""
        unknown = sorted(set(overlay.montant) - set(self.montant))
        if unknown:
            raise ValueError(f"montant de démonstration inconnu : {', '.join(unknown)}")
        series = dict(self.montant)
        for key, extra in overlay.montant.items():
            values = [*series[key].valeurs, *extra.valeurs]
            series[key] = series[key].model_copy(update={"valeurs": _one_per_date(values)})
        return self.model_copy(update={"montant": series})


class DemonstrationValues(Strict):
    valeurs: Annotated[list[Amount], Field(min_length=1)]

    @model_validator(mode="after")
    def _flagged(self) -> "DemonstrationValues":
        if not all(a.demonstration for a in self.valeurs):
            raise ValueError("chaque valeur de démonstration porte « demonstration = true »")
        return self


class DemonstrationAmounts(Strict):
    """``montants_demonstration.toml``: values for the demonstration only, never read by a real install."""

    montant: dict[str, DemonstrationValues]


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


class PauseClauses(Strict):
    sans_pause: str
    avec_pause: str  # {minutes}
    source: str


class CepClauses(Strict):
    """Standard clauses of the CEP (R412-25); the opérateur's own values are computed around them."""

    cotisations: Clause
    jours_feries: Clause
    repos_hebdomadaire: Clause
    astreintes: Clause
    periode_essai: Clause
    duree: Clause
    classement: Clause  # {classement}, {affectation}
    accord_conjoint: Clause  # {motif}
    pause: PauseClauses
    suspension: Annotated[list[SuspensionCase], Field(min_length=1)]
    fin: Annotated[list[Termination], Field(min_length=1)]


class WorkingTimeBounds(Strict):
    """R412-50 and R412-51 of the code pénitentiaire: a CEP's hours stay within them."""

    temps_complet_hebdomadaire: Annotated[int, Field(ge=1)]
    minimum_hebdomadaire: Annotated[int, Field(ge=0)]
    maximum_quotidien: Annotated[int, Field(ge=1)]
    maximum_hebdomadaire: Annotated[int, Field(ge=1)]
    source: str


class ImplantationClauses(Strict):
    preavis_denonciation_mois: Annotated[int, Field(ge=1)]
    renouvellement_tacite: str
    renouvellement_expres: str
    source_renouvellement: str
    moyens_etablissement: str
    moyens_etablissement_aci: str
    source_moyens: str
    autorisation: str  # {reference}: the decision and its date
    autorisation_attendue: str
    source_autorisation: str
    suspension_securite: str
    source_suspension_securite: str
    resiliation: str
    source_resiliation: str
    interet_general: str  # {preavis_mois}
    source_interet_general: str
    assurance: str
    source_assurance: str
    operateurs: str  # {postes}, {etp}
    source_operateurs: str


class CepAnnexClauses(Strict):
    hygiene_securite: str
    source_hygiene_securite: str
    defaut_paiement: str
    source_defaut_paiement: str


class ContractsFile(Strict):
    """Bounds and standard clauses of the stage-5 documents, each with its source."""

    periode_essai: TrialPeriodRules
    duree_travail: WorkingTimeBounds
    remboursement_remuneration: dict[SiaeKind, ReimbursementRule]
    revalorisation: Clause
    cep: CepClauses
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
