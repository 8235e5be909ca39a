"""Real SQLite database in a temporary directory, the shipped configuration, and rows for a complete project."""

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from docx import Document
from sqlmodel import Session, SQLModel

from implantation.db.models import (
    AmountRecord,
    Establishment,
    ImplantationProject,
    Operateur,
    OperateurIdentity,
    Person,
    Siae,
)
from implantation.db.session import make_engine
from implantation.enums import EstablishmentType, LegalStatus, OperateurStatus, Role, SiaeKind
from implantation.settings import PROJECT_ROOT, Settings

HOSTILE = 'Dupont & Fils <Atelier> "{{ 7*7 }}"'


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """The shipped configuration: the documents are dated 2026, where its amounts are in force."""
    return Settings(data_dir=tmp_path / "data", config_dir=PROJECT_ROOT / "config", soffice_path=None)


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    engine = make_engine(f"sqlite:///{tmp_path / 'test.db'}")
    SQLModel.metadata.create_all(engine)
    with Session(engine, expire_on_commit=False) as s:
        yield s
    engine.dispose()


def make_project(
    session: Session, *, siae_name: str = "Atelier Solidaire Garonne", complete: bool = True
) -> int:
    establishment = Establishment(
        code="MA-GRADIGNAN",
        name="Maison d'arrêt de Bordeaux-Gradignan",
        type=EstablishmentType.MA,
        departement="33",
        city="Gradignan",
        address="Rue du Maréchal Joffre",
        premises="Atelier de 400 m² au rez-de-chaussée du bâtiment B et deux bureaux d'entretien",
        head_name="Claire Martin",
        security_rules="Outils inventoriés chaque soir ; produits inflammables interdits en atelier",
    )
    siae = Siae(
        siret="73282932000074",
        name=siae_name,
        kind=SiaeKind.ACI,
        address="12 quai de Bacalan",
        postal_code="33300",
        city="Bordeaux",
        naf_code="8899B",
        idcc="3016",
        legal_form="Association loi 1901",
        president="Hélène Roussel",
        director="Marc Olivier",
        legal_representative="Hélène Roussel, présidente",
    )
    session.add(establishment)
    session.add(siae)
    session.flush()
    lead = Person(
        full_name="Sophie Bernard",
        email="sophie.bernard@justice.fr",
        organisation="DISP de Bordeaux",
        role=Role.DISP,
        territory="BORDEAUX",
    )
    session.add(lead)
    add_signatories(session)
    session.flush()
    assert establishment.id is not None
    add_atmp(session, establishment.id)
    project = ImplantationProject(
        reference="IMP-2026-0001",
        establishment_id=establishment.id,
        lead_id=lead.id,
        siae_id=siae.id,
        activity="Reconditionnement de matériel informatique",
        started_on=date(2025, 9, 1),
        launch_date=date(2026, 3, 1),
        insertion_posts_etp=10,
        insertion_posts_count=12,
        workshops_count=1,
        staff_eti_etp=2,
        staff_cip_etp=0.5,
        accompaniment_plan="Entretien individuel mensuel avec la CIP\nPréparation à la sortie avec le SPIP",
        insertion_targets="60 % de sorties dynamiques ; une attestation de compétences par opérateur",
        partners="France Travail, Mission locale, SPIP de la Gironde",
        budget_lines=[
            {"nature": "charge", "libelle": "Salaires de l'encadrement", "montant": "180000"},
            {"nature": "charge", "libelle": "Achats et fournitures", "montant": "30000"},
            {"nature": "ressource", "libelle": "Conseil départemental de la Gironde", "montant": "20000"},
        ],
        convention_start=date(2026, 3, 1),
        convention_end=date(2029, 2, 28),
        implantation_start=date(2026, 3, 1),
        implantation_end=date(2033, 2, 28),
        work_schedule="Journée continue",
        workshop_days="lundi,mardi,mercredi,jeudi,vendredi",
        workshop_start="08:00",
        workshop_end="15:00",
        reimbursement_terms="Facture mensuelle de l'établissement, payable à trente jours",
    )
    if not complete:
        project.insertion_posts_etp = None
        project.convention_end = None
        siae.naf_code = None
    session.add(project)
    session.flush()
    assert project.id is not None
    return project.id


def add_operateur(
    session: Session,
    project_id: int,
    *,
    status: OperateurStatus = OperateurStatus.ASSIGNED,
    last_name: str = "Durand",
    first_name: str = "Karim",
    **fields: object,
) -> str:
    values: dict[str, object] = {
        "contract_start": date(2026, 3, 1),
        "planned_duration_months": 6,
        "weekly_hours": 24,
        "schedule": {
            "jours": ["lundi", "mardi", "mercredi", "jeudi"],
            "debut": "08:00",
            "fin": "14:30",
            "pause_minutes": 30,
        },
        "post_title": "Agent de reconditionnement informatique",
        "rome_code": "I1401",
        "missions": "Diagnostic, nettoyage et reconditionnement de postes informatiques",
        "particular_risks": "Manipulation de composants électriques hors tension",
    }
    values.update(fields)
    values.setdefault("assigned_on", date(2026, 2, 15))
    values.setdefault("classified_on", date(2026, 2, 1))
    op = Operateur(
        project_id=project_id,
        status=status,
        legal_status=LegalStatus.CONVICTED,
        quantum_months=18,
        **values,  # type: ignore[arg-type]
    )
    session.add(op)
    session.flush()
    session.add(
        OperateurIdentity(
            operateur_id=op.id,
            last_name=last_name,
            first_name=first_name,
            ecrou_number="45872",
            birth_date=date(1990, 5, 17),
        )
    )
    session.flush()
    return op.id


def add_signatories(session: Session, departement: str = "33", disp: str = "BORDEAUX") -> None:
    """The préfet, the DDETS director signing for him by delegation, and the DISP's director: the people the
    convention's signature blocks name (``siae importer personnes``, columns qualite and signataire)."""
    session.add_all(
        [
            Person(
                full_name="Étienne Guyot",
                email="prefet@gironde.gouv.fr",
                organisation="Préfecture de la Gironde",
                role=Role.PREFET,
                territory=departement,
                office="préfet de la Gironde",
                signatory=True,
            ),
            Person(
                full_name="Nadia Lemoine",
                email="directrice@ddets33.gouv.fr",
                organisation="DDETS de la Gironde",
                role=Role.DDETS,
                territory=departement,
                office="directrice départementale de l'emploi, du travail et des solidarités de la Gironde",
                signatory=True,
                delegation_act="arrêté préfectoral n° 33-2026-0104",
                delegation_date=date(2026, 1, 4),
            ),
            Person(
                full_name="Paul Renaud",
                email="di@disp-bordeaux.justice.fr",
                organisation="DISP de Bordeaux",
                role=Role.DISP,
                territory=disp,
                office="directeur interrégional des services pénitentiaires de Bordeaux",
                signatory=True,
            ),
        ]
    )
    session.flush()


def add_atmp(
    session: Session, establishment_id: int, rate: str = "0.0150", since: date = date(2026, 1, 1)
) -> None:
    """The AT/MP rate notified to the establishment (``siae montants ajouter taux_atmp … --etablissement``)."""
    session.add(
        AmountRecord(
            key="taux_atmp",
            value=Decimal(rate),
            starts_on=since,
            source="Notification du taux AT/MP par la CARSAT Aquitaine",
            source_date=date(2025, 12, 10),
            establishment_id=establishment_id,
            actor_label="test",
        )
    )
    session.flush()


def docx_text(path: Path) -> str:
    """Every paragraph, table cell and footer of a .docx, one per line."""
    doc = Document(str(path))
    lines = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            lines += [cell.text for cell in row.cells]
    for section in doc.sections:
        lines += [p.text for p in section.header.paragraphs]
        lines += [p.text for p in section.footer.paragraphs]
    return "\n".join(lines)


@pytest.fixture
def project_id(session: Session) -> int:
    return make_project(session)


@pytest.fixture
def new_project():  # type: ignore[no-untyped-def]
    return make_project


@pytest.fixture
def new_operateur():  # type: ignore[no-untyped-def]
    return add_operateur


@pytest.fixture
def read_docx():  # type: ignore[no-untyped-def]
    return docx_text
