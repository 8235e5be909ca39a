"""Test data built through the same services as the application, with sensible defaults."""

from datetime import date, timedelta
from typing import Any

from pdf_samples import record_pdf
from sqlmodel import Session, select

from implantation.calendar import add_months
from implantation.config.schema import ProcessConfig
from implantation.db.models import (
    CopilMeeting,
    DeliverableRecord,
    DocumentRecord,
    Establishment,
    ImplantationProject,
    Person,
    Siae,
)
from implantation.documents.parties import signers_for_document
from implantation.documents.service import document_states, generate_pack
from implantation.enums import Decision, ProjectStatus, Role
from implantation.services import decisions, gate_codes, workflow
from implantation.services.dossier import complete, load_dossier
from implantation.services.operateurs import add_operateur
from implantation.services.projects import record_copil, record_deliverable
from implantation.services.referential import ESTABLISHMENTS, PERSONS, SIAES, add
from implantation.settings import PROJECT_ROOT, Settings, get_settings
from implantation.signatures.authority import demo_authority
from implantation.signatures.register import sign_with_certificate

# Key of the one-time decision codes in the tests that call the services directly.
SECRET = b"cle-des-tests-de-service"

# Fictitious SIRETs: valid Luhn keys, SIREN starting with 000 so that they designate no real structure.
SIRET_A = "00000001800010"
SIRET_B = "00000002600013"
SIRET_C = "00000003400017"


def establishment(session: Session, cfg: ProcessConfig, **values: str | None) -> Establishment:
    raw: dict[str, str | None] = {
        "code": "CP-GRENOBLE-VARCES",
        "nom": "Centre pénitentiaire de Grenoble-Varces",
        "type": "CP",
        "departement": "38",
        "ville": "Varces-Allières-et-Risset",
    }
    raw.update(values)
    row = add(session, cfg, ESTABLISHMENTS, raw)
    assert isinstance(row, Establishment)
    return row


def siae(session: Session, cfg: ProcessConfig, **values: str | None) -> Siae:
    raw: dict[str, str | None] = {
        "siret": SIRET_A,
        "nom": "La Remise",
        "type": "ACI",
        "adresse": "1 rue de l'Exemple",
        "code_postal": "38000",
        "ville": "Grenoble",
    }
    raw.update(values)
    row = add(session, cfg, SIAES, raw)
    assert isinstance(row, Siae)
    return row


SIAE_IDENTITY = {
    "code_naf": "38.32Z",
    "idcc": "3016",
    "forme_juridique": "Association loi 1901",
    "president": "Alix Président",
    "directeur": "Sacha Directeur",
    "representant_legal": "Alix Président, président",
}
"""What the DUI reads of the SIAE beyond its required columns: ``siae(session, cfg, **SIAE_IDENTITY)``."""


def person(session: Session, cfg: ProcessConfig, role: Role, territory: str, **values: str | None) -> Person:
    raw: dict[str, str | None] = {
        "nom": f"{role.value.capitalize()} Exemple",
        "email": f"{role.value}.{territory.lower()}@example.org",
        "organisation": f"{role.value.upper()} {territory}",
        "role": role.value,
        "territoire": territory,
    }
    raw.update(values)
    row = add(session, cfg, PERSONS, raw)
    assert isinstance(row, Person)
    return row


def signatories(session: Session, cfg: ProcessConfig, departement: str = "38", disp: str = "LYON") -> None:
    """The préfet and the DISP's director, named in the convention's signature blocks (unless already there)."""
    for role, territory, name, office in (
        (Role.PREFET, departement, "Préfet Exemple", "préfet de l'Isère"),
        (
            Role.DISP,
            disp,
            "Directrice Interrégionale",
            "directrice interrégionale des services pénitentiaires de Lyon",
        ),
    ):
        known = session.exec(
            select(Person).where(Person.role == role, Person.territory == territory, Person.signatory == True)  # noqa: E712
        ).first()
        if known is None:
            person(
                session,
                cfg,
                role,
                territory,
                nom=name,
                email=f"signataire.{role.value}@example.org",
                qualite=office,
                signataire="oui",
            )


def project(
    session: Session,
    cfg: ProcessConfig,
    started_on: date = date(2026, 10, 1),
    **establishment_values: Any,
) -> tuple[ImplantationProject, Person]:
    """A project at stage 1 in Grenoble-Varces (Isère, DISP de Lyon) and its DISP lead."""
    site = establishment(session, cfg, **establishment_values)
    lead = person(session, cfg, Role.DISP, "LYON")
    assert site.id is not None and lead.id is not None
    created = workflow.create_project(session, cfg, site.id, lead.id, started_on, workflow.Actor.of(lead))
    return created, lead


def decide(
    session: Session,
    cfg: ProcessConfig,
    project_id: int,
    request: decisions.DecisionRequest,
    today: date,
    *,
    record_work: bool = True,
) -> decisions.DecisionOutcome:
    """``decisions.decide`` answered, unless the request says otherwise, with the code the approver received;
    an approval first records the stage's minimum of COPILs and its deliverables (``record_work``), which
    the gate requires, as its pilots would have."""
    project = session.get(ImplantationProject, project_id)
    if (
        record_work
        and request.decision == Decision.APPROVE
        and project
        and project.status == ProjectStatus.IN_PROGRESS
    ):
        stage_work(session, cfg, project_id, request.stage)
    if request.code is None:
        request.code = gate_codes.current_code(
            session, SECRET, project_id, request.stage, request.approver_id, request.key
        )
    return decisions.decide(session, cfg, project_id, request, today, secret=SECRET)


SAMPLES = PROJECT_ROOT / "config" / "echantillons"


def complete_for_documents(
    session: Session, cfg: ProcessConfig, project: ImplantationProject, launch_on: date, operateurs: int = 2
) -> list[str]:
    """What stages 1 to 4 produce, entered through the dossier service (the sample dossier with its dates
    moved to ``launch_on``), then ``operateurs`` opérateurs « affectés » through the opérateur service.

    The SIAE of SIRET ``SIRET_A`` must be in the referential; the project's SIAE identity (NAF, IDCC…) is
    the referential's, as in the documents.
    """
    actor = workflow.Actor(label="Fabrique de tests")
    dossier = load_dossier(SAMPLES / "dossier.toml").model_copy(
        update={
            "date_demarrage_prevue": launch_on,
            "convention_debut": launch_on,
            "convention_fin": add_months(launch_on, 36) - timedelta(days=1),
            "implantation_debut": launch_on,
            "implantation_fin": add_months(launch_on, 84) - timedelta(days=1),
        }
    )
    complete(session, cfg, project, dossier, actor)
    signatories(session, cfg)
    ids = []
    for n in range(operateurs):
        raw = {
            "nom": f"Opérateur{n}",
            "prenom": f"Prénom{n}",
            "ecrou": f"TEST-{n:05d}",
            "date_naissance": "1990-01-01",
            "statut_juridique": "condamne",
            "quantum_mois": "20",
            "poste": "Agent de tri de textiles",
            "date_classement": (launch_on - timedelta(days=21)).isoformat(),
            "date_affectation": (launch_on - timedelta(days=7)).isoformat(),
            "debut_contrat": launch_on.isoformat(),
            # 4 days of 5 h 30 worked (8 h-14 h within the workshop's hours, 30-minute break): the post's 22 h.
            "jours": "lundi,mardi,mercredi,jeudi",
            "heure_debut": "08:00",
            "heure_fin": "14:00",
            "pause_minutes": "30",
        }
        ids.append(add_operateur(session, cfg, project, raw, actor, launch_on).id)
    return ids


def stage_work(
    session: Session, cfg: ProcessConfig, project_id: int, stage: int, day: date | None = None
) -> None:
    """A stage's minimum of COPILs and its deliverables (``config/etapes.toml``), through the services:
    what its gate requires before an approval (only what is still missing). ``day``: the project's start."""
    if day is None:
        project = session.get(ImplantationProject, project_id)
        assert project is not None
        day = project.started_on
    spec = cfg.stage(stage)
    held = len(
        session.exec(
            select(CopilMeeting).where(CopilMeeting.project_id == project_id, CopilMeeting.stage == stage)
        ).all()
    )
    for n in range(held, spec.copil.min if spec.copil else 0):
        record_copil(session, cfg, project_id, stage, day, "DISP, EP, SPIP", f"COPIL {n + 1}")
    received = set(
        session.exec(
            select(DeliverableRecord.kind).where(
                DeliverableRecord.project_id == project_id, DeliverableRecord.stage == stage
            )
        )
    )
    for deliverable in spec.livrables:
        if deliverable.id not in received:
            record_deliverable(session, cfg, project_id, stage, deliverable.id, day, f"{deliverable.id}.pdf")


def signed_contract_documents(
    session: Session, cfg: ProcessConfig, project_id: int, settings: Settings, day: date
) -> None:
    """Stage 5's pack produced from the current data, then DUI, convention and contract signed by all, each
    party with a certificate of the demonstration authority in the name the signature block prints."""
    generate_pack(session, project_id, cfg, settings)
    for state in document_states(session, project_id, cfg):
        if state.latest and state.record.operateur_id is None:
            sign_with_demo_certificates(session, cfg, project_id, state.record, state.missing)


def sign_with_demo_certificates(
    session: Session, cfg: ProcessConfig, project_id: int, record: DocumentRecord, slots: list[Role]
) -> None:
    """Each of ``slots`` signs ``record``'s PDF (a one-page stand-in, recorded if the version has none) with
    a demonstration certificate issued to the person its block names."""
    app_settings = get_settings()
    if record.pdf_sha256 is None:
        record_pdf(session, record)
    authority = demo_authority(app_settings.data_dir)
    signers = signers_for_document(session, cfg, project_id, record.operateur_id)
    for slot in slots:
        who = signers[slot].printed
        assert who is not None, f"aucun signataire nommé pour {slot.label}"
        p12 = authority.issue_p12(who.name, who.organisation or who.office, "essai")
        sign_with_certificate(session, cfg, app_settings, project_id, record.id, p12, "essai")  # type: ignore[arg-type]
