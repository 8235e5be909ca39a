"""Times a stage-5 pack: DUI + convention + contrat d'implantation + 12 CEP with their annexes (27 files).

Usage: ``.venv/bin/python benchmarks/documents.py [--operateurs 12] [--no-pdf]``. Goals: DOCX ≤ 1 s,
PDF ≤ 15 s. Each figure is the median of a few runs on a fresh SQLite database in a temporary directory.
"""

import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

from sqlmodel import Session, SQLModel

from flows.harness.samples import seed
from implantation.cli.common import FrenchArgumentParser
from implantation.config.loader import load_process_config
from implantation.config.schema import ProcessConfig
from implantation.db.session import make_engine
from implantation.documents.render import find_soffice
from implantation.documents.service import generate_pack, generate_pack_with_pdf
from implantation.services.amounts import NewAmount, add_amount
from implantation.services.dossier import complete, load_dossier
from implantation.services.operateurs import add_operateur
from implantation.services.workflow import SYSTEM, create_project
from implantation.settings import PROJECT_ROOT, Settings


def sample_project(session: Session, cfg: ProcessConfig, operateurs: int) -> int:
    """The demo's pilot site at stage 5: the sample dossier entered, opérateurs affectés (services of the CLI)."""
    ids = seed(session)
    project = create_project(session, cfg, ids.establishment_id, ids.lead_id, date(2026, 1, 5), SYSTEM)
    assert project.id is not None
    complete(
        session, cfg, project, load_dossier(PROJECT_ROOT / "config" / "echantillons" / "dossier.toml"), SYSTEM
    )
    for n in range(operateurs):
        raw = {
            "nom": f"Opérateur{n}",
            "prenom": f"Prénom{n}",
            "ecrou": f"BENCH-{n:05d}",
            "date_naissance": "1990-01-01",
            "statut_juridique": "condamne",
            "quantum_mois": "20",
            "poste": "Agent de tri de textiles",
            "date_classement": "2026-12-14",
            "date_affectation": "2026-12-28",
            "debut_contrat": "2027-01-11",
            "jours": "lundi,mardi,mercredi,jeudi",
            "heure_debut": "08:00",
            "heure_fin": "14:00",
            "pause_minutes": "30",
        }
        add_operateur(session, cfg, project, raw, SYSTEM, date(2026, 9, 14))
    # The establishment's AT/MP rate, as its administrator enters it with its notice.
    atmp = NewAmount(
        "taux_atmp", "0.0123", date(2026, 1, 1), "Notification CARSAT (banc)", None, "CP-GRENOBLE-VARCES"
    )
    add_amount(session, cfg, atmp, "banc", date(2026, 9, 14))
    return project.id


def run_once(operateurs: int, with_pdf: bool) -> tuple[float, int]:
    cfg = load_process_config(PROJECT_ROOT / "config")
    with tempfile.TemporaryDirectory(prefix="bench-docs-") as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        SQLModel.metadata.create_all(engine)
        settings = Settings(data_dir=Path(tmp) / "data", config_dir=PROJECT_ROOT / "config")
        with Session(engine) as session:
            project_id = sample_project(session, cfg, operateurs)
            session.commit()
        start = time.perf_counter()
        if with_pdf:
            records = generate_pack_with_pdf(engine, project_id, cfg, settings)
        else:
            with Session(engine) as session:
                records = generate_pack(session, project_id, cfg, settings)
                session.commit()
        elapsed = time.perf_counter() - start
        engine.dispose()
    return elapsed, len(records)


def main() -> None:
    parser = FrenchArgumentParser(description=__doc__)
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
