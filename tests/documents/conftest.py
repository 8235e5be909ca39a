"""Real SQLite database in a temporary directory, the shipped configuration, and rows for a complete project."""

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from docx import Document
from sqlmodel import Session, SQLModel

from implantation.config.schema import ProcessConfig
from implantation.db.models import (
    Establishment,
    ImplantationProject,
    Operateur,
    OperateurIdentity,
    Person,
    Siae,
)
from implantation.db.session import make_engine
from implantation.enums import EstablishmentType, LegalStatus, OperateurStatus, Role, SiaeKind
from implantation.settings import Settings

HOSTILE = 'Dupont & Fils <Atelier> "{{ 7*7 }}"'


@pytest.fixture(scope="session")
def cfg(demo_cfg: ProcessConfig) -> ProcessConfig:
    """The documents are dated 2026, where only the demonstration amounts set an aide au poste."""
    return demo_cfg


@pytest.fixture
def settings(tmp_path: Path, demo_config_dir: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", config_dir=demo_config_dir, soffice_path=None)


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
    session.flush()
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
        work_schedule="Du lundi au vendredi, de 8 h 00 à 14 h 00 (journée continue)",
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
    op = Operateur(
        project_id=project_id,
        status=status,
        legal_status=LegalStatus.CONVICTED,
        quantum_months=18,
        assigned_on=date(2026, 2, 15),
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


def docx_text(path: Path) -> str:
    """Every paragraph, table cell and footer of a .docx, one per line."""
    doc = Document(str(path))
    lines = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            lines += [cell.text for cell in row.cells]
    for section in doc.sections:
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
