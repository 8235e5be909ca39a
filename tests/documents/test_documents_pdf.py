"""Real LibreOffice conversion of a whole pack; the PDF text is read back with pdftotext (poppler-utils)."""

import shutil
import subprocess
from pathlib import Path

import pytest
from sqlmodel import Session

from implantation.config.schema import ProcessConfig
from implantation.documents.render import file_sha256, find_soffice
from implantation.documents.service import generate_pack, project_dir
from implantation.settings import PROJECT_ROOT, Settings

pytestmark = pytest.mark.libreoffice

SOFFICE = find_soffice(None)
PDFTOTEXT = shutil.which("pdftotext")


@pytest.mark.skipif(
    SOFFICE is None, reason="LibreOffice (soffice) absent : installer libreoffice-writer-nogui"
)
@pytest.mark.skipif(PDFTOTEXT is None, reason="pdftotext absent : installer poppler-utils")
def test_pack_converts_to_pdf_naming_the_parties(
    session: Session, project_id: int, cfg: ProcessConfig, tmp_path: Path, new_operateur
) -> None:
    new_operateur(session, project_id)
    settings = Settings(data_dir=tmp_path / "data", config_dir=PROJECT_ROOT / "config")
    records = generate_pack(session, project_id, cfg, settings, with_pdf=True)
    folder = project_dir(settings, "IMP-2026-0001")
    expected = {
        "dui": ["Atelier Solidaire Garonne", "Hélène Roussel"],
        "convention": ["Atelier Solidaire Garonne", "DDETS de la Gironde", "Bordeaux"],
        "contrat_implantation": ["Atelier Solidaire Garonne", "Claire Martin"],
        "cep": ["Atelier Solidaire Garonne", "Karim Durand"],
        "annexe_cep": ["Atelier Solidaire Garonne", "Karim Durand", "Claire Martin"],
    }
    for record in records:
        assert record.pdf_filename == record.filename.removesuffix(".docx") + ".pdf"
        pdf = folder / record.pdf_filename
        assert record.pdf_sha256 == file_sha256(pdf)
        text = subprocess.run(
            [PDFTOTEXT, "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
        ).stdout
        flat = " ".join(text.split())
        for name in expected[record.kind.value]:
            assert name in flat, (record.filename, name)
