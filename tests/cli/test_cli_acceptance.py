"""The issue's acceptance path, on each backend: from the sample CSVs to the documents, by command line only.

importer (3 CSV) → projet creer → projet completer (sample dossier) → operateurs importer → documents
generer; then a copy of the dossier with another ``activite`` and the new DUI carries it.
"""

from datetime import datetime
from pathlib import Path

import pytest
import time_machine
from click.testing import Result
from docx import Document
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from implantation.cli import app
from implantation.config.schema import ProcessConfig
from implantation.db.models import DocumentRecord, Siae
from implantation.db.session import get_engine
from implantation.documents.builders import DocumentDataError
from implantation.documents.service import build_pack
from implantation.enums import DocumentKind
from implantation.settings import PROJECT_ROOT, get_settings

runner = CliRunner()
SAMPLES = PROJECT_ROOT / "config" / "echantillons"


@pytest.fixture
def terminal(
    engine: Engine, migrated_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, demo_config_dir: Path
):  # type: ignore[no-untyped-def]
    """The shipped configuration plus the demonstration amounts: no text in force yet sets the SMIC and the
    aide au poste of 2028, when the sample dossier starts, and the shipped files never invent them."""
    monkeypatch.setenv("SIAE_CONFIG_DIR", str(demo_config_dir))
    monkeypatch.setenv("SIAE_DATABASE_URL", migrated_url)
    monkeypatch.setenv("SIAE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COLUMNS", "220")
    get_settings.cache_clear()
    get_engine.cache_clear()
    yield engine
    get_engine(migrated_url).dispose()  # the engine ``siae documents`` kept
    get_settings.cache_clear()
    get_engine.cache_clear()


def siae(*args: str) -> Result:
    with time_machine.travel(datetime(2026, 11, 23, 9, 0), tick=False):
        result = runner.invoke(app, list(args))
    assert result.exit_code == 0, f"siae {' '.join(args)}\n{result.output}"
    return result


def _text(path: Path) -> str:
    doc = Document(str(path))
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    return "\n".join([p.text for p in doc.paragraphs] + cells)


def test_from_the_sample_csvs_to_the_documents(terminal: Engine, tmp_path: Path) -> None:
    for kind, name in (("etablissements", "etablissements"), ("siae", "siae"), ("personnes", "personnes")):
        siae("importer", kind, str(SAMPLES / f"{name}.csv"))
    siae("projet", "creer", "--etablissement", "1", "--chef", "1")
    siae("projet", "completer", "1", "--fichier", str(SAMPLES / "dossier.toml"))
    result = siae("operateurs", "importer", "1", str(SAMPLES / "operateurs.csv"))
    assert "3 opérateur(s) enregistré(s)" in result.output
    result = siae("documents", "generer", "1")
    assert "9 document(s) pour le projet IMP-2026-0001" in result.output  # DUI, convention, contrat, 3 × 2

    folder = tmp_path / "data" / "documents" / "IMP-2026-0001"
    dui = _text(folder / "dui_IMP-2026-0001_v1.docx")
    assert "Tri de textiles" in dui and "00000001800010" in dui and "Salaires de l'encadrement" in dui
    plain = dui.replace("\u202f", " ").replace("\xa0", " ")
    # The two-year balance, with each year's lines as entered.
    assert "Année 1, charge : Salaires de l'encadrement (ETI et CIP)\n95 000,00 €" in plain
    assert "Année 2, charge : Salaires de l'encadrement (ETI et CIP)\n97 000,00 €" in plain
    contract = _text(folder / "contrat_implantation_IMP-2026-0001_v1.docx")
    assert "Morgan Exemple" in contract and "fouille des ballots" in contract

    copy = tmp_path / "dossier.toml"
    original = (SAMPLES / "dossier.toml").read_text(encoding="utf-8")
    copy.write_text(
        original.replace('activite = "Tri de textiles"', 'activite = "Menuiserie solidaire"'),
        encoding="utf-8",
    )
    siae("projet", "completer", "1", "--fichier", str(copy))
    siae("documents", "generer", "1")
    assert "Menuiserie solidaire" in _text(folder / "dui_IMP-2026-0001_v2.docx")
    with Session(terminal) as session:
        versions = session.exec(select(DocumentRecord.version).where(DocumentRecord.kind == DocumentKind.DUI))
        assert sorted(versions) == [1, 2]


def test_every_missing_fact_says_where_to_enter_it(terminal: Engine, cfg: ProcessConfig) -> None:
    """An empty project lists each missing fact with its dossier key, form field or CSV column."""
    for kind in ("etablissements", "siae", "personnes"):
        siae("importer", kind, str(SAMPLES / f"{kind}.csv"))
    siae("projet", "creer", "--etablissement", "1", "--chef", "1")
    with Session(terminal) as session:
        with pytest.raises(DocumentDataError) as caught:
            build_pack(session, 1, cfg)
        assert caught.value.problems == [
            "DUI : il manque la SIAE retenue pour le projet (à saisir : clé « siae_retenue » de « siae projet "
            "completer », ou champ « siae_retenue » du formulaire de l'étape 2)",
            *caught.value.problems[1:],
        ]
        assert all("(à saisir : " in p for p in caught.value.problems)
        ti_tang = session.exec(select(Siae).where(Siae.siret == "00000002600013")).one()
    bare = Path(get_settings().data_dir) / "siae.toml"
    bare.parent.mkdir(parents=True, exist_ok=True)
    bare.write_text(f'siae_retenue = "{ti_tang.siret}"\n', encoding="utf-8")
    siae("projet", "completer", "1", "--fichier", str(bare))
    with Session(terminal) as session, pytest.raises(DocumentDataError) as caught:
        build_pack(session, 1, cfg)
    missing = [p for p in caught.value.problems if " : il manque " in p]
    assert len(missing) > 20 and all("(à saisir : " in p for p in missing)
    assert any("colonne « code_naf » du référentiel des SIAE" in p for p in missing)
