"""Pydantic schema of the process configuration.

Every figure carries its source so that an analyst can check it against the guide or the law.
"""

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

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
    FEASIBILITY_VALIDATION = "validation_faisabilite"  # its description shows the 2-year budget balance
    CONVENTION_APPROVAL = "approbation_convention"  # the administrative documents are produced before it
    LAUNCH = "lancement"  # the effective start date; approving it launches the project


class StageDecision(Strict):
    id: str
    titre: str
    roles: Annotated[list[Role], Field(min_length=1)]
    attendus: list[str] = []
    # Items the approver must confirm one by one before approving (the launch checklist, for instance).
    verifications: list[Deliverable] = []

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

    @model_validator(mode="after")
    def _has_signers(self) -> "DocumentSpec":
        if not self.signers:
            raise ValueError("au moins une partie doit signer")
        return self

    @property
    def signers(self) -> list[Role]:
        return [role for role, actions in self.parties.items() if PartyAction.SIGNS in actions]

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
    valeur: Decimal
    debut: date
    source: str


class MoneyFile(Strict):
    smic_horaire_brut: Annotated[list[Amount], Field(min_length=1)]
    part_smic_remuneration_minimale: Annotated[list[Amount], Field(min_length=1)]
    aide_au_poste_socle: dict[SiaeKind, Annotated[list[Amount], Field(min_length=1)]]
    part_modulee_max_detention: Annotated[list[Amount], Field(min_length=1)]
    aide_au_demarrage_atigip: Annotated[list[Amount], Field(min_length=1)]
    heures_temps_plein_annuel: Annotated[list[Amount], Field(min_length=1)]


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


class ContractsFile(Strict):
    """Bounds and standard clauses of the CEP and its annex (code pénitentiaire)."""

    periode_essai: TrialPeriodRules
    remboursement_remuneration: dict[SiaeKind, ReimbursementRule]


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
