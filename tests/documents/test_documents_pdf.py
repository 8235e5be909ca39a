"""Real LibreOffice conversion of a whole pack to PDF/A-2b; text, properties and the PDF/A identification are
read back from the files (pdftotext and pdfinfo from poppler-utils)."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from sqlmodel import Session, delete

from implantation.config.schema import ProcessConfig
from implantation.db.models import AmountRecord
from implantation.documents.render import file_sha256, find_soffice
from implantation.documents.service import generate_pack_with_pdf, project_dir
from implantation.settings import PROJECT_ROOT, Settings

pytestmark = pytest.mark.libreoffice

SOFFICE = find_soffice(None)
PDFTOTEXT = shutil.which("pdftotext")
PDFINFO = shutil.which("pdfinfo")


def pdfa_identification(pdf: Path) -> tuple[str, str]:
    """(part, conformance) from the XMP packet, which PDF/A keeps uncompressed."""
    xmp = pdf.read_bytes().decode("latin-1")
    part = re.search(r"pdfaid:part(?:>|=\")(\d)", xmp)
    conformance = re.search(r"pdfaid:conformance(?:>|=\")([A-Za-z])", xmp)
    assert part and conformance, f"{pdf.name} : pas d'identification PDF/A"
    return part[1], conformance[1]


def pdf_info(pdf: Path) -> dict[str, str]:
    assert PDFINFO is not None
    out = subprocess.run([PDFINFO, str(pdf)], capture_output=True, text=True, check=True).stdout
    return {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in out.splitlines())}


NBSP = "\u00a0"
AUTHORS = {
    "dui": "DDETS de la Gironde",
    "convention": "DDETS de la Gironde",
    "contrat_implantation": "Maison d'arrêt de Bordeaux-Gradignan (chef d'établissement)",
    "cep": "Maison d'arrêt de Bordeaux-Gradignan (chef d'établissement)",
    "annexe_cep": "Maison d'arrêt de Bordeaux-Gradignan (chef d'établissement)",
}


@pytest.mark.skipif(
    SOFFICE is None, reason="LibreOffice (soffice) absent : installer libreoffice-writer-nogui"
)
@pytest.mark.skipif(PDFTOTEXT is None or PDFINFO is None, reason="pdftotext absent : installer poppler-utils")
def test_pack_converts_to_pdfa_naming_the_parties(
    session: Session,
    project_id: int,
    cfg: ProcessConfig,
    tmp_path: Path,
    new_operateur,
) -> None:
    new_operateur(session, project_id)
    session.commit()
    settings = Settings(data_dir=tmp_path / "data", config_dir=PROJECT_ROOT / "config")
    records = generate_pack_with_pdf(session.get_bind(), project_id, cfg, settings)  # type: ignore[arg-type]
    folder = project_dir(settings, "IMP-2026-0001")
    expected = {
        "dui": ["Atelier Solidaire Garonne", "Hélène Roussel"],
        "convention": ["Atelier Solidaire Garonne", "DDETS de la Gironde", "Bordeaux"],
        "contrat_implantation": ["Atelier Solidaire Garonne", "Claire Martin"],
        "cep": ["Atelier Solidaire Garonne", "Karim Durand", "141,70 €", "du lundi au jeudi", "R382-132"],
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
        assert pdfa_identification(pdf) == ("2", "B"), record.filename
        info = pdf_info(pdf)
        assert info["Title"] == cfg.documents.document[record.kind].titre
        assert info["Subject"] == (
            "Implantation de la SIAE Atelier Solidaire Garonne à l'établissement Maison d'arrêt de Bordeaux-Gradignan"
        )
        assert info["Author"] == AUTHORS[record.kind.value], record.filename
        assert info["Keywords"] == "IMP-2026-0001"


@pytest.mark.skipif(
    SOFFICE is None, reason="LibreOffice (soffice) absent : installer libreoffice-writer-nogui"
)
@pytest.mark.skipif(PDFTOTEXT is None or PDFINFO is None, reason="pdftotext absent : installer poppler-utils")
def test_a_demonstration_document_says_so_on_every_page_and_in_its_pdf_title(
    session: Session, project_id: int, demo_cfg: ProcessConfig, tmp_path: Path, new_operateur
) -> None:
    """Without the establishment's AT/MP rate, the demonstration copy of config/ supplies a fictitious one:
    the CEP that uses it carries the banner on each of its pages, and its PDF title starts with it."""
    new_operateur(session, project_id)
    session.exec(delete(AmountRecord))  # type: ignore[call-overload]
    session.commit()
    settings = Settings(data_dir=tmp_path / "data")
    records = generate_pack_with_pdf(session.get_bind(), project_id, demo_cfg, settings)  # type: ignore[arg-type]
    folder = project_dir(settings, "IMP-2026-0001")
    banner = "DOCUMENT DE DÉMONSTRATION : montants non réglementaires, ne pas signer"
    flagged = {r.kind.value for r in records if r.demonstration}
    assert flagged == {"cep"}  # the other documents use no demonstration amount
    for record in records:
        assert record.pdf_filename is not None
        pdf = folder / record.pdf_filename
        pages = subprocess.run([PDFTOTEXT, str(pdf), "-"], capture_output=True, text=True, check=True).stdout
        pages_text = [" ".join(page.split()) for page in pages.split("\f") if page.strip()]
        title = pdf_info(pdf)["Title"]
        if record.demonstration:
            assert len(pages_text) > 1 and all(banner in page for page in pages_text), record.filename
            assert title == f"{banner} — {demo_cfg.documents.document[record.kind].titre}"
        else:
            assert all("DÉMONSTRATION" not in page for page in pages_text) and "DÉMONSTRATION" not in title
