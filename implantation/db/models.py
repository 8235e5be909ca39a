"""Application tables: the record of truth, whatever Prefect keeps or forgets.

Detainees appear only as :class:`Operateur` with an opaque id; their identity sits in
:class:`OperateurIdentity`, read only when a CEP is rendered.
"""

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import annotated_types
from sqlalchemy import JSON, CheckConstraint, Column, DateTime, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from implantation.db.types import DecimalType, StrEnumType
from implantation.enums import (
    DocumentKind,
    DocumentStatus,
    EstablishmentType,
    LegalStatus,
    OperateurEndReason,
    OperateurStatus,
    ProjectStatus,
    Role,
    SiaeKind,
    StageStatus,
)

# Named constraints let Alembic's batch mode (SQLite) alter or drop them later, identically on both backends.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


def _ts(nullable: bool = False) -> Column:
    return Column(DateTime(timezone=True), nullable=nullable)


class ChainLink(SQLModel):
    """Link of the tamper-evident journal (``implantation.db.journal``), filled in when the row is flushed.

    Decisions, documents and signatures share one chain: one head digest vouches for every legal fact.
    """

    chain_seq: int | None = Field(default=None, index=True, description="Rang dans la chaîne du journal")
    prev_digest: str | None = Field(default=None, max_length=64, description="Empreinte du maillon précédent")
    digest: str | None = Field(default=None, max_length=64, description="SHA-256 de ce maillon")


class JournalHead(SQLModel, table=True):
    """The last link of the journal: deleting the newest rows shows as a head the rows no longer reach."""

    __tablename__ = "journal_head"
    id: int = Field(default=1, primary_key=True)
    seq: int = 0
    digest: str = Field(max_length=64)
    at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class Establishment(SQLModel, table=True):
    __tablename__ = "establishment"
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True, index=True)
    name: str = Field(max_length=200)
    type: EstablishmentType = Field(sa_type=StrEnumType(EstablishmentType, 8))
    departement: str = Field(max_length=3, index=True)
    city: str = Field(max_length=120)
    address: str | None = Field(default=None, max_length=300)
    capacity: int | None = Field(default=None, ge=0)
    premises: str | None = Field(default=None, max_length=1000)
    # Documents of stage 5: the head signs the implantation contract and the CEP annex.
    head_name: str | None = Field(default=None, max_length=200, description="Chef d'établissement")
    security_rules: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class Siae(SQLModel, table=True):
    __tablename__ = "siae"
    id: int | None = Field(default=None, primary_key=True)
    siret: str = Field(max_length=14, unique=True, index=True)
    name: str = Field(max_length=200)
    kind: SiaeKind = Field(sa_type=StrEnumType(SiaeKind, 8))
    address: str = Field(max_length=300)
    postal_code: str = Field(max_length=5)
    city: str = Field(max_length=120)
    network: str | None = Field(default=None, max_length=200)
    naf_code: str | None = Field(default=None, max_length=6)
    idcc: str | None = Field(default=None, max_length=4)
    legal_form: str | None = Field(default=None, max_length=100)
    president: str | None = Field(default=None, max_length=200)
    director: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=254)
    legal_representative: str | None = Field(
        default=None, max_length=200, description="Nom et qualité du représentant légal (signataire du CEP)"
    )


class Person(SQLModel, table=True):
    """A professional contact (never a detainee)."""

    __tablename__ = "person"
    id: int | None = Field(default=None, primary_key=True)
    full_name: str = Field(max_length=200)
    email: str = Field(max_length=254, index=True)
    organisation: str = Field(max_length=200)
    role: Role = Field(sa_type=StrEnumType(Role, 20))
    territory: str = Field(max_length=32, description="Code DISP, région ou département selon le rôle")
    siae_id: int | None = Field(default=None, foreign_key="siae.id")
    manager_id: int | None = Field(
        default=None, foreign_key="person.id", description="Hiérarchie pour les relances"
    )
    # A signatory of the stage-5 documents (the préfet, the DISP director, a delegate): printed by name and
    # office, and checked by the signature register. A delegate names the act that gives the delegation.
    office: str | None = Field(default=None, max_length=300, description="Qualité (fonction) du signataire")
    signatory: bool = Field(default=False, description="Signe les documents de l'étape 5 pour son rôle")
    delegation_act: str | None = Field(
        default=None, max_length=300, description="Acte de délégation de signature (nature et numéro)"
    )
    delegation_date: date | None = Field(default=None, description="Date de l'acte de délégation")


class ImplantationProject(SQLModel, table=True):
    __tablename__ = "implantation_project"
    id: int | None = Field(default=None, primary_key=True)
    reference: str = Field(max_length=40, unique=True, index=True)
    establishment_id: int = Field(foreign_key="establishment.id", index=True)
    lead_id: int = Field(foreign_key="person.id")
    siae_id: int | None = Field(default=None, foreign_key="siae.id")
    activity: str | None = Field(default=None, max_length=300)
    status: ProjectStatus = Field(default=ProjectStatus.IN_PROGRESS, sa_type=StrEnumType(ProjectStatus, 20))
    current_stage: int = Field(default=1, ge=1)
    started_on: date
    launch_date: date | None = None
    insertion_posts_etp: Decimal | None = Field(default=None, ge=0, sa_type=DecimalType(8, 2))
    # Data of the stage-5 documents; the SIAE fills them in, the documents refuse to render without them.
    insertion_posts_count: int | None = Field(default=None, ge=0)
    modulated_share: Decimal | None = Field(
        default=None,
        ge=0,
        sa_type=DecimalType(6, 4),
        description="Part modulée de l'aide au poste (fraction) ; plafond de la configuration si vide",
    )
    workshops_count: int | None = Field(default=None, ge=0)
    staff_eti_etp: Decimal | None = Field(
        default=None, ge=0, sa_type=DecimalType(8, 2), description="Encadrants techniques d'insertion (ETP)"
    )
    staff_cip_etp: Decimal | None = Field(
        default=None, ge=0, sa_type=DecimalType(8, 2), description="Conseillers en insertion (ETP)"
    )
    accompaniment_plan: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    insertion_targets: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    partners: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    budget_lines: list[dict[str, str]] | None = Field(
        default=None,
        sa_column=Column(JSON, nullable=True),
        description='Budget prévisionnel : [{"nature": "charge"|"ressource", "libelle": ..., "montant": "1234.56"}]',
    )
    convention_start: date | None = None
    convention_end: date | None = None
    implantation_start: date | None = None
    implantation_end: date | None = None
    implantation_tacit_renewal: bool = True
    work_schedule: str | None = Field(
        default=None, max_length=500, description="Horaires de travail des opérateurs"
    )
    reimbursement_terms: str | None = Field(
        default=None, max_length=500, description="Périodicité et délai du remboursement des rémunérations"
    )
    # Entered with ``siae projet completer``.
    joint_lead: str | None = Field(
        default=None, max_length=200, description="Chef de projet commun SPIP / établissement"
    )
    posts: list[dict[str, str]] | None = Field(
        default=None,
        sa_column=Column(JSON, nullable=True),
        description="Postes : intitule, code_rome, heures_hebdomadaires, horaires, missions, risques",
    )
    # The workshop's opening hours, against which every CEP schedule is checked (dossier keys atelier_*).
    workshop_days: str | None = Field(
        default=None, max_length=100, description="Jours d'ouverture de l'atelier"
    )
    workshop_start: str | None = Field(
        default=None, max_length=5, description="Ouverture de l'atelier (HH:MM)"
    )
    workshop_end: str | None = Field(default=None, max_length=5, description="Fermeture de l'atelier (HH:MM)")
    # D412-22: every prison work is authorised beforehand by the directeur interrégional.
    work_authorisation: str | None = Field(
        default=None,
        max_length=300,
        description="Autorisation préalable du directeur interrégional (référence)",
    )
    work_authorisation_date: date | None = Field(default=None, description="Date de cette autorisation")
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class StageRecord(SQLModel, table=True):
    __tablename__ = "stage_record"
    __table_args__ = (UniqueConstraint("project_id", "stage", name="uq_stage_record_project_stage"),)
    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="implantation_project.id", index=True)
    stage: int = Field(ge=1)
    status: StageStatus = Field(default=StageStatus.PENDING, sa_type=StrEnumType(StageStatus, 20))
    opened_on: date | None = None
    due_on: date | None = None
    closed_on: date | None = None
    attempt: int = Field(default=0, ge=0, description="Incrémenté à chaque (ré)ouverture")
    # Bumped by every decision before it reads the stage: the UPDATE locks the row on PostgreSQL and takes
    # the write lock on SQLite, so two answers at once are checked one after the other (see decisions.decide).
    version: int = Field(default=0, ge=0, description="Compteur des décisions (verrou)")
    # The clock that stops: while the stage waits on the other party its deadline does not run.
    suspended_on: date | None = Field(default=None, description="Horloge arrêtée depuis ce jour")
    suspended_days: int = Field(
        default=0, ge=0, description="Jours ouvrés d'arrêt de la tentative en cours, reportés sur l'échéance"
    )


class TransitionLog(ChainLink, table=True):
    """Who decided what, when and why; written in the same transaction as the state change."""

    __tablename__ = "transition_log"
    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="implantation_project.id", index=True)
    stage: int | None = Field(default=None, ge=1)
    transition: str = Field(max_length=40)
    from_state: str | None = Field(default=None, max_length=20)
    to_state: str | None = Field(default=None, max_length=20)
    accepted: bool = True
    actor_id: int | None = Field(default=None, foreign_key="person.id")
    actor_label: str = Field(max_length=200)
    actor_role: str | None = Field(default=None, max_length=20)
    reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    idempotency_key: str | None = Field(default=None, max_length=200, unique=True)
    # Where an accepted decision led, so that its replay returns the same next run whatever happened since.
    next_stage: int | None = Field(default=None, ge=1)
    next_attempt: int | None = Field(default=None, ge=1)
    at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class CopilMeeting(SQLModel, table=True):
    __tablename__ = "copil_meeting"
    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="implantation_project.id", index=True)
    stage: int = Field(ge=1)
    kind: str = Field(default="COPIL", max_length=10)
    held_on: date
    attendees: str = Field(sa_column=Column(Text, nullable=False))
    decisions: str = Field(sa_column=Column(Text, nullable=False))
    minutes_ref: str | None = Field(default=None, max_length=300)
    # A COPIL planned ahead: ``held_on`` is then its planned date, until it is recorded as held.
    planned: bool = Field(default=False, description="Prévu, pas encore tenu")


class CalendarEvent(SQLModel, table=True):
    """What each calendar event was last published with: SEQUENCE grows when its date moves.

    Calendar programs update an event with the same UID only if its SEQUENCE is higher.
    """

    __tablename__ = "calendar_event"
    uid: str = Field(primary_key=True, max_length=200)
    project_id: int = Field(foreign_key="implantation_project.id", index=True)
    sequence: int = Field(default=0, ge=0)
    starts_on: date
    summary: str = Field(max_length=300)


class DeliverableRecord(SQLModel, table=True):
    __tablename__ = "deliverable"
    __table_args__ = (UniqueConstraint("project_id", "stage", "kind", name="uq_deliverable"),)
    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="implantation_project.id", index=True)
    stage: int = Field(ge=1)
    kind: str = Field(max_length=60)
    received_on: date
    reference: str | None = Field(default=None, max_length=300)


class CandidateSiae(SQLModel, table=True):
    """SIAEs sourced at stage 2."""

    __tablename__ = "candidate_siae"
    __table_args__ = (UniqueConstraint("project_id", "siae_id", name="uq_candidate_siae"),)
    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="implantation_project.id", index=True)
    siae_id: int = Field(foreign_key="siae.id")
    proposed_activity: str | None = Field(default=None, max_length=300)


def new_operateur_id() -> str:
    return "OP-" + uuid.uuid4().hex[:12].upper()


class Operateur(SQLModel, table=True):
    """A detainee worker, known to the workflow only by an opaque id."""

    __tablename__ = "operateur"
    id: str = Field(default_factory=new_operateur_id, primary_key=True, max_length=20)
    project_id: int = Field(foreign_key="implantation_project.id", index=True)
    status: OperateurStatus = Field(
        default=OperateurStatus.IDENTIFIED, sa_type=StrEnumType(OperateurStatus, 20)
    )
    legal_status: LegalStatus = Field(sa_type=StrEnumType(LegalStatus, 20))
    quantum_months: int = Field(ge=0)
    work_authorised: bool = True
    volunteer: bool = True
    joint_agreement: bool = False
    assigned_on: date | None = None
    post_title: str | None = Field(default=None, max_length=200)
    rome_code: str | None = Field(default=None, max_length=5)
    weekly_hours: Decimal | None = Field(default=None, gt=0, le=48, sa_type=DecimalType(5, 2))
    # CEP data. Identity stays in OperateurIdentity.
    contract_start: date | None = None
    planned_duration_months: int | None = Field(
        default=None,
        ge=1,
        description="Durée prévisible, pour borner la période d'essai ; vide : plafond général",
    )
    trial_days: int | None = Field(default=None, ge=0, description="Période d'essai ; maximum légal si vide")
    classified_on: date | None = Field(default=None, description="Décision de classement au travail")
    hourly_rate: Decimal | None = Field(
        default=None,
        gt=0,
        sa_type=DecimalType(8, 2),
        description="Taux horaire brut ; plancher légal si vide",
    )
    missions: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    particular_risks: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    schedule: dict[str, Any] | None = Field(
        default=None,
        sa_column=Column(JSON, nullable=True),
        description='Emploi du temps : {"jours": ["lundi", …], "debut": "08:00", "fin": "14:30", "pause_minutes": 30}',
    )
    # A CEP ends at release or resignation: the record stays, its end is marked.
    ended_on: date | None = None
    end_reason: OperateurEndReason | None = Field(
        default=None, sa_type=StrEnumType(OperateurEndReason, 20), nullable=True
    )


class OperateurIdentity(SQLModel, table=True):
    """Identity of a detainee; read only when a CEP is rendered, never sent to Prefect."""

    __tablename__ = "operateur_identity"
    operateur_id: str = Field(foreign_key="operateur.id", primary_key=True, max_length=20)
    last_name: str = Field(max_length=120)
    first_name: str = Field(max_length=120)
    ecrou_number: str = Field(max_length=20)
    birth_date: date


class DocumentRecord(ChainLink, table=True):
    __tablename__ = "document"
    __table_args__ = (
        UniqueConstraint("project_id", "kind", "operateur_id", "version", name="uq_document_version"),
    )
    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="implantation_project.id", index=True)
    kind: DocumentKind = Field(sa_type=StrEnumType(DocumentKind, 30))
    operateur_id: str | None = Field(default=None, foreign_key="operateur.id", max_length=20)
    version: int = Field(ge=1)
    filename: str = Field(max_length=300)
    sha256: str = Field(max_length=64)
    pdf_filename: str | None = Field(default=None, max_length=300)
    pdf_sha256: str | None = Field(default=None, max_length=64)
    content_sha256: str | None = Field(
        default=None,
        max_length=64,
        description="Empreinte du contenu rendu (gabarit + données), pour la reprise",
    )
    status: DocumentStatus = Field(default=DocumentStatus.DRAFT, sa_type=StrEnumType(DocumentStatus, 30))
    # Produced with an amount no text sets (config/echantillons/montants_demonstration.toml): never signable.
    demonstration: bool = Field(default=False, description="Document de démonstration (montants fictifs)")
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class DocumentFile(SQLModel, table=True):
    """The bytes of a document version, in the application database: every runner reads them here.

    ``purpose`` says which file: the rendered DOCX, its PDF/A-2b, a signed PDF returned by a party (the
    PDF/A followed by incremental signature updates), or the scan of a handwritten signature. Files on
    disk are only an export of these rows. The DOCX's checksum is chained through its document row.
    """

    __tablename__ = "document_file"
    __table_args__ = (UniqueConstraint("document_id", "purpose", "sha256", name="uq_document_file_content"),)
    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="document.id", index=True)
    purpose: str = Field(max_length=20, description="docx, pdf, pdf_signe ou scan")
    media_type: str = Field(max_length=100)
    sha256: str = Field(max_length=64)
    size: int = Field(ge=0)
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class SignatureRecord(ChainLink, table=True):
    __tablename__ = "signature"
    __table_args__ = (UniqueConstraint("document_id", "party_role", name="uq_signature_party"),)
    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="document.id", index=True)
    party_role: Role = Field(sa_type=StrEnumType(Role, 20))
    signer_label: str = Field(max_length=200)
    signed_on: date
    recorded_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class SignatureEvidence(ChainLink, table=True):
    """What makes a signature count: the verified PAdES signature of a certificate, or the witnessed scan of
    a handwritten one (the opérateur's). A :class:`SignatureRecord` without one is a « signature déclarée »:
    typed by an agent for a document signed outside any PDF workflow, shown as such, and not enough for
    the stage-5 gate."""

    __tablename__ = "signature_preuve"
    id: int | None = Field(default=None, primary_key=True)
    signature_id: int = Field(foreign_key="signature.id", unique=True, index=True)
    method: str = Field(max_length=20, description="certificat ou manuscrite")
    file_id: int = Field(foreign_key="document_file.id")
    file_sha256: str = Field(max_length=64)
    field_name: str | None = Field(default=None, max_length=200, description="Champ de signature du PDF")
    subject: str | None = Field(default=None, max_length=500)
    serial: str | None = Field(default=None, max_length=80)
    issuer: str | None = Field(default=None, max_length=500)
    signing_time: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    verified_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    validation: str = Field(default="", max_length=500, description="Résultat de la vérification")
    demonstration: bool = Field(default=False, description="Certificat de l'autorité de démonstration")
    witness_label: str | None = Field(default=None, max_length=200, description="Agent témoin")
    witnessed_on: date | None = None
    recorded_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class AmountRecord(ChainLink, table=True):
    """A legal amount an administrator added on top of ``config/montants.toml``, with its text; append-only.

    A later row for the same key, day and establishment corrects an earlier one, which stays in the journal.
    """

    __tablename__ = "montant"
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=60, index=True)
    value: Decimal = Field(sa_type=DecimalType(14, 6))
    starts_on: date
    ends_on: date | None = None
    source: str = Field(sa_column=Column(Text, nullable=False))
    source_date: date | None = None
    establishment_id: int | None = Field(default=None, foreign_key="establishment.id")
    actor_label: str = Field(max_length=200)
    recorded_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class AmountCheck(ChainLink, table=True):
    """An administrator checked that no newer text changes an amount (``siae montants verifier --confirmer``)."""

    __tablename__ = "montant_verification"
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=60, index=True)
    checked_on: date
    actor_label: str = Field(max_length=200)
    recorded_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class NotificationRecord(SQLModel, table=True):
    """Every e-mail sent; the unique key makes a resumed flow skip what already went out."""

    __tablename__ = "notification"
    id: int | None = Field(default=None, primary_key=True)
    # None for an e-mail about every project (the national overview sent to ATIGIP).
    project_id: int | None = Field(default=None, foreign_key="implantation_project.id", index=True)
    stage: int | None = Field(default=None, ge=1)
    kind: str = Field(max_length=40)
    dedup_key: str = Field(max_length=200, unique=True)
    recipients: str = Field(sa_column=Column(Text, nullable=False))
    subject: str = Field(max_length=300)
    # Claimed but not yet confirmed by the SMTP server (see notifications.mailer): ``sent_at`` is the claim's time.
    pending: bool = False
    sent_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class FactChange(SQLModel, table=True):
    """One project fact changed (dossier key, old and new value), by whom and when.

    Opérateurs appear only by their opaque id: their identity is never copied here.
    """

    __tablename__ = "fact_change"
    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="implantation_project.id", index=True)
    field: str = Field(max_length=60)
    old_value: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    new_value: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    actor_id: int | None = Field(default=None, foreign_key="person.id")
    actor_label: str = Field(max_length=200)
    source: str | None = Field(default=None, max_length=300, description="Fichier ou commande d'origine")
    at: datetime = Field(default_factory=utcnow, sa_column=_ts())


_BOUNDS = {
    annotated_types.Ge: ">=",
    annotated_types.Gt: ">",
    annotated_types.Le: "<=",
    annotated_types.Lt: "<",
}


def bound_checks(model: type[SQLModel]) -> dict[str, str]:
    """``{constraint name: SQL}`` for the ``Field(ge=…, le=…)`` bounds of a table model.

    SQLModel validates them only when a model is built from untrusted data, never on a table row written
    by the application; the CHECK constraints make the database refuse an out-of-range value whatever
    wrote it. The migration ``0004_integrity`` spells the same constraints out.
    """
    checks: dict[str, str] = {}
    for name, info in model.model_fields.items():
        terms = [
            f"{name} {op} {getattr(meta, kind.__name__.lower())}"
            for meta in info.metadata
            for kind, op in _BOUNDS.items()
            if isinstance(meta, kind)
        ]
        if terms:
            checks[f"{name}_bounds"] = " AND ".join(terms)
    return checks


def _table_models() -> list[type[SQLModel]]:
    return [cls for cls in SQLModel.__subclasses__() if hasattr(cls, "__table__")]


for _model in _table_models():
    for _name, _sql in bound_checks(_model).items():
        _model.__table__.append_constraint(CheckConstraint(_sql, name=_name))  # type: ignore[attr-defined]
