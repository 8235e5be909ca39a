"""``siae documents signer --certificat | deposer | manuscrite | verifier`` on real PDF/A files made by
LibreOffice, against a SQLite file chosen through SIAE_* variables."""

import io
import shutil
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import update
from sqlmodel import Session, SQLModel, col, select
from typer.testing import CliRunner

from implantation.cli.documents import PASSWORD_VARIABLE, app
from implantation.db.models import DocumentFile, DocumentRecord
from implantation.db.session import get_engine
from implantation.documents.render import find_soffice
from implantation.enums import DocumentKind
from implantation.settings import PROJECT_ROOT, get_settings
from implantation.signatures import pdf as pades
from implantation.signatures.authority import demo_authority

pytestmark = [
    pytest.mark.libreoffice,
    pytest.mark.skipif(
        find_soffice(None) is None, reason="LibreOffice (soffice) absent : installer libreoffice-writer-nogui"
    ),
]
runner = CliRunner()


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, new_project, new_operateur):  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("SIAE_CONFIG_DIR", str(PROJECT_ROOT / "config"))
    monkeypatch.setenv("SIAE_DATABASE_URL", url)
    monkeypatch.setenv("SIAE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv(PASSWORD_VARIABLE, "secret")
    get_settings.cache_clear()
    get_engine.cache_clear()
    engine = get_engine(url)
    SQLModel.metadata.create_all(engine)
    with Session(engine) as session:
        project_id = new_project(session)
        new_operateur(session, project_id)
        session.commit()
    result = runner.invoke(app, ["generer", "IMP-2026-0001", "--pdf"])
    assert result.exit_code == 0, result.output
    authority = demo_authority(tmp_path / "data")
    certificates = {}
    for name, organisation in (
        ("Hélène Roussel", "Atelier Solidaire Garonne"),
        ("Claire Martin", "Maison d'arrêt de Bordeaux-Gradignan"),
        ("Marc Intrus", "Atelier Solidaire Garonne"),
    ):
        path = tmp_path / f"{name.split()[0]}.p12"
        path.write_bytes(authority.issue_p12(name, organisation, "secret"))
        certificates[name.split()[0]] = path
    with Session(engine) as session:
        ids = {r.kind: r.id for r in session.exec(select(DocumentRecord))}
    yield {"engine": engine, "ids": ids, "p12": certificates, "tmp": tmp_path}
    engine.dispose()
    get_settings.cache_clear()
    get_engine.cache_clear()


def _plain(text: str) -> str:
    return " ".join(text.split())


def test_sign_deposit_verify_and_a_byte_changed_in_storage(world) -> None:  # type: ignore[no-untyped-def]
    contract = str(world["ids"][DocumentKind.IMPLANTATION_CONTRACT])
    for who in ("Hélène", "Claire"):
        result = runner.invoke(
            app, ["signer", "IMP-2026-0001", contract, "--certificat", str(world["p12"][who])]
        )
        assert result.exit_code == 0, result.output
        assert "Signature vérifiée et enregistrée" in _plain(result.output)
    assert "Signé" in result.output

    # A PDF signed by someone the document does not name: refused, with the reason.
    with Session(world["engine"]) as session:
        cep_pdf = session.exec(
            select(DocumentFile).where(
                DocumentFile.document_id == world["ids"][DocumentKind.CEP], DocumentFile.purpose == "pdf"
            )
        ).one()
    stranger = pades.load_p12(world["p12"]["Marc"].read_bytes(), "secret")
    signed = world["tmp"] / "cep-signe.pdf"
    signed.write_bytes(pades.sign(cep_pdf.content, stranger, "Signature_siae", (40, 36, 300, 96), "essai"))
    result = runner.invoke(app, ["deposer", "IMP-2026-0001", str(signed)])
    assert result.exit_code == 1
    assert "« Marc Intrus »" in _plain(result.output) and "Signature refusée" in _plain(result.output)

    # The opérateur's handwritten signature on the CEP.
    scan = world["tmp"] / "scan.png"
    out = io.BytesIO()
    Image.new("L", (60, 30), color=255).save(out, format="PNG")
    scan.write_bytes(out.getvalue())
    cep = str(world["ids"][DocumentKind.CEP])
    result = runner.invoke(
        app,
        [
            "manuscrite",
            "IMP-2026-0001",
            cep,
            str(scan),
            "--temoin",
            "Agent Dupuis, surveillant",
            "--date",
            "2026-01-15",
        ],
    )
    assert result.exit_code == 0, result.output

    result = runner.invoke(app, ["verifier", "IMP-2026-0001"], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    assert "Hélène Roussel" in result.output and "Claire Martin" in result.output
    assert "signature manuscrite" in result.output
    result = runner.invoke(app, ["lister", "IMP-2026-0001"], env={"COLUMNS": "250"})
    assert "signature électronique vérifiée" in result.output and "Durand" not in result.output

    # The exported files are only a copy: removing them changes nothing.
    shutil.rmtree(world["tmp"] / "data" / "documents")
    result = runner.invoke(app, ["verifier", "IMP-2026-0001"])
    assert result.exit_code == 0, result.output

    with Session(world["engine"]) as session:
        row = session.exec(select(DocumentFile).where(DocumentFile.purpose == "pdf_signe")).first()
        assert row is not None
        altered = bytearray(row.content)
        altered[len(altered) // 3] ^= 0x01
        session.execute(
            update(DocumentFile).where(col(DocumentFile.id) == row.id).values(content=bytes(altered))
        )
        session.commit()
    result = runner.invoke(app, ["verifier", "IMP-2026-0001"], env={"COLUMNS": "250"})
    assert result.exit_code == 1
    assert "contrat_implantation_IMP-2026-0001_v1.pdf" in _plain(result.output)
