"""Times a stage-5 pack: DUI + convention + contrat d'implantation + 12 CEP with their annexes (27 files).

Usage: ``.venv/bin/python benchmarks/documents.py [--operateurs 12] [--no-pdf]``. Goals: DOCX ≤ 1 s,
PDF ≤ 15 s. Each figure is the median of a few runs on a fresh SQLite database in a temporary directory.
"""

import argparse
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

from sqlmodel import Session, SQLModel

from implantation.config.loader import load_process_config
from implantation.db.models import (
    Establishment,
    ImplantationProject,
    Operateur,
    OperateurIdentity,
    Person,
    Siae,
)
from implantation.db.session import make_engine
from implantation.documents.render import find_soffice
from implantation.documents.service import generate_pack
from implantation.enums import EstablishmentType, LegalStatus, OperateurStatus, Role, SiaeKind
from implantation.settings import PROJECT_ROOT, Settings


def sample_project(session: Session, operateurs: int) -> int:
    est = Establishment(
        code="CP-BENCH",
        name="Centre pénitentiaire de démonstration",
        type=EstablishmentType.CP,
        departement="33",
        city="Gradignan",
        address="1 rue de l'Essai",
        premises="Atelier de 300 m², deux bureaux",
        head_name="Claire Martin",
        security_rules="Inventaire des outils à chaque fin de poste",
    )
    siae = Siae(
        siret="73282932000074",
        name="Atelier Solidaire",
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
    session.add_all([est, siae])
    session.flush()
    lead = Person(
        full_name="Sophie Bernard",
        email="s.b@example.org",
        organisation="DISP",
        role=Role.DISP,
        territory="BORDEAUX",
    )
    session.add(lead)
    session.flush()
    project = ImplantationProject(
        reference="IMP-2026-0001",
        establishment_id=est.id,
        lead_id=lead.id,
        siae_id=siae.id,
        activity="Reconditionnement informatique",
        started_on=date(2025, 9, 1),
        launch_date=date(2026, 3, 1),
        insertion_posts_etp=10,
        insertion_posts_count=12,
        workshops_count=1,
        staff_eti_etp=2,
        staff_cip_etp=0.5,
        accompaniment_plan="Entretien mensuel avec la CIP",
        insertion_targets="60 % de sorties dynamiques",
        partners="France Travail, Mission locale",
        budget_lines=[{"nature": "charge", "libelle": "Encadrement", "montant": "180000"}],
        convention_start=date(2026, 3, 1),
        convention_end=date(2029, 2, 28),
        implantation_start=date(2026, 3, 1),
        implantation_end=date(2033, 2, 28),
        work_schedule="Du lundi au vendredi, 8 h – 14 h",
        reimbursement_terms="Facture mensuelle à trente jours",
    )
    session.add(project)
    session.flush()
    for n in range(operateurs):
        op = Operateur(
            project_id=project.id,
            status=OperateurStatus.ASSIGNED,
            legal_status=LegalStatus.CONVICTED,
            quantum_months=18,
            contract_start=date(2026, 3, 1),
            planned_duration_months=6,
            weekly_hours=24,
            post_title="Agent de reconditionnement",
            rome_code="I1401",
            missions="Diagnostic et nettoyage",
            particular_risks="Aucun risque particulier identifié",
        )
        session.add(op)
        session.flush()
        session.add(
            OperateurIdentity(
                operateur_id=op.id,
                last_name=f"Nom{n}",
                first_name="Prénom",
                ecrou_number=f"{10000 + n}",
                birth_date=date(1990, 1, 1),
            )
        )
    session.flush()
    assert project.id is not None
    return project.id


def run_once(operateurs: int, with_pdf: bool) -> tuple[float, int]:
    cfg = load_process_config(PROJECT_ROOT / "config")
    with tempfile.TemporaryDirectory(prefix="bench-docs-") as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        SQLModel.metadata.create_all(engine)
        settings = Settings(data_dir=Path(tmp) / "data", config_dir=PROJECT_ROOT / "config")
        with Session(engine) as session:
            project_id = sample_project(session, operateurs)
            session.commit()
            start = time.perf_counter()
            records = generate_pack(session, project_id, cfg, settings, with_pdf=with_pdf)
            session.commit()
            elapsed = time.perf_counter() - start
        engine.dispose()
    return elapsed, len(records)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--operateurs", type=int, default=12)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-pdf", action="store_true")
    args = parser.parse_args()
    run_once(1, False)  # warm-up: imports, template parsing caches
    docx = [run_once(args.operateurs, False) for _ in range(args.runs)]
    print(
        f"DOCX : {docx[0][1]} fichiers, médiane {statistics.median(t for t, _ in docx):.2f} s "
        f"(min {min(t for t, _ in docx):.2f} s) — objectif ≤ 1 s"
    )
    if args.no_pdf:
        return
    if find_soffice(None) is None:
        print("PDF : LibreOffice (soffice) introuvable, mesure non faite.")
        return
    pdf = [run_once(args.operateurs, True) for _ in range(args.runs)]
    print(
        f"DOCX + PDF : {pdf[0][1]} documents, médiane {statistics.median(t for t, _ in pdf):.2f} s "
        f"(min {min(t for t, _ in pdf):.2f} s) — objectif ≤ 15 s"
    )


if __name__ == "__main__":
    main()
