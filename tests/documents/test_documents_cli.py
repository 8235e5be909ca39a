"""The ``documents`` sub-app against a real SQLite file chosen through SIAE_* variables."""

from pathlib import Path

import pytest
from sqlmodel import Session, SQLModel
from typer.testing import CliRunner

from implantation.cli.documents import app
from implantation.db.session import get_engine
from implantation.settings import PROJECT_ROOT, get_settings

runner = CliRunner()


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, new_project, new_operateur):  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("SIAE_CONFIG_DIR", str(PROJECT_ROOT / "config"))
    monkeypatch.setenv("SIAE_DATABASE_URL", url)
    monkeypatch.setenv("SIAE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SIAE_SOFFICE_PATH", str(tmp_path / "absent-soffice"))
    get_settings.cache_clear()
    get_engine.cache_clear()
    engine = get_engine(url)
    SQLModel.metadata.create_all(engine)
    with Session(engine) as session:
        project_id = new_project(session)
        op = new_operateur(session, project_id)
        session.commit()
    yield {"data": tmp_path / "data", "op": op}
    engine.dispose()
    get_settings.cache_clear()
    get_engine.cache_clear()


def test_generate_list_and_sign(database) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(app, ["generer", "IMP-2026-0001"])
    assert result.exit_code == 0, result.output
    assert "5 document(s) pour le projet IMP-2026-0001" in result.output
    assert (database["data"] / "documents" / "IMP-2026-0001" / "dui_IMP-2026-0001_v1.docx").exists()

    result = runner.invoke(
        app, ["signer", "1", "--role", "siae", "--signataire", "Hélène Roussel", "--date", "2026-01-15"]
    )
    assert result.exit_code == 0, result.output
    assert "Signé" in result.output

    result = runner.invoke(
        app, ["signer", "2", "--role", "disp", "--signataire", "M. Blanc", "--date", "2026-01-15"]
    )
    assert result.exit_code == 1, result.output  # the convention names the DISP's director
    plain = " ".join(result.output.split())
    assert (
        "« M. Blanc » ne peut pas signer pour « Direction interrégionale des services pénitentiaires (DISP) » : "
        in plain
    )
    assert "le document nomme Paul Renaud" in plain
    result = runner.invoke(
        app,
        ["signer", "2", "--role", "disp", "--signataire", "Paul Renaud, directeur", "--date", "2026-01-15"],
    )
    plain = " ".join(result.output.split())
    assert result.exit_code == 0 and "Signature partielle" in plain
    assert "Signature déclarée enregistrée" in plain and "ne compte pas pour l'étape 5" in plain

    result = runner.invoke(app, ["lister", "IMP-2026-0001"], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    assert "Signature partielle" in result.output and "Brouillon" in result.output
    assert "signature déclarée" in result.output
    assert database["op"] in result.output
    assert "Durand" not in result.output


def test_errors_are_french_without_traceback(database) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(app, ["generer", "IMP-9999"])
    assert result.exit_code == 1
    assert "Erreur" in result.output and "Projet introuvable" in result.output
    assert "Traceback" not in result.output

    result = runner.invoke(app, ["generer", "IMP-2026-0001", "--pdf"])
    assert result.exit_code == 1 and "LibreOffice (soffice) est introuvable" in result.output

    result = runner.invoke(
        app, ["signer", "1", "--role", "juge", "--signataire", "X", "--date", "2026-01-15"]
    )
    assert result.exit_code == 1 and "rôle inconnu" in result.output

    result = runner.invoke(
        app, ["signer", "1", "--role", "siae", "--signataire", "X", "--date", "15/01/2026"]
    )
    assert result.exit_code == 1 and "date invalide" in result.output

    result = runner.invoke(
        app, ["signer", "42", "--role", "siae", "--signataire", "X", "--date", "2026-01-15"]
    )
    assert result.exit_code == 1 and "Document introuvable" in result.output
