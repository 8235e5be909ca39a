"""The acceptance path, on each backend and on the shipped configuration only: from the sample CSVs to a
complete pack (DOCX and PDF/A) by command line, and the administrator's new SMIC.

importer (3 CSV) → projet creer → projet completer (sample dossier) → operateurs importer → montants ajouter
(the establishment's AT/MP rate, with its notice) → documents generer --pdf. No demonstration amount, no
« DÉMONSTRATION » anywhere; the CEP states its contributions in euros with their CSS article. Then a new
SMIC: the CEPs under the new floor are listed, their DISP lead is e-mailed, and a new version carries it.
"""

import re
import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import pytest
import time_machine
from click.testing import Result
from docx import Document
from mailsink import MailSink, free_port
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from implantation.cli import app
from implantation.config.schema import ProcessConfig
from implantation.db.journal import verify
from implantation.db.models import AmountRecord, DocumentRecord, Siae
from implantation.db.session import get_engine
from implantation.documents.builders import DocumentDataError
from implantation.documents.render import find_soffice
from implantation.documents.service import build_pack
from implantation.enums import DocumentKind
from implantation.settings import PROJECT_ROOT, get_settings

runner = CliRunner()
SAMPLES = PROJECT_ROOT / "config" / "echantillons"
NBSP = "\u00a0"
SOFFICE = find_soffice(None)
PDFTOTEXT = shutil.which("pdftotext")
ATMP = (
    "montants",
    "ajouter",
    "taux_atmp",
    "0.0123",
    "--etablissement",
    "CP-GRENOBLE-VARCES",
    "--du",
    "2026-01-01",
    "--source",
    "Notification du taux AT/MP 2026 de l'établissement par la CARSAT Rhône-Alpes (exemple)",
    "--date-source",
    "2025-12-15",
)
SMIC_2027 = (
    "montants",
    "ajouter",
    "smic_horaire_brut",
    "12.50",
    "--du",
    "2027-01-01",
    "--source",
    "Décret n° 2026-9999 du 17 décembre 2026 portant relèvement du salaire minimum de croissance (essai)",
    "--date-source",
    "2026-12-17",
)


@pytest.fixture
def terminal(engine: Engine, migrated_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """The shipped configuration, nothing else: a real installation's amounts."""
    monkeypatch.setenv("SIAE_CONFIG_DIR", str(PROJECT_ROOT / "config"))
    monkeypatch.setenv("SIAE_DATABASE_URL", migrated_url)
    monkeypatch.setenv("SIAE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SIAE_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SIAE_SMTP_PORT", str(free_port()))
    monkeypatch.setenv("COLUMNS", "220")
    get_settings.cache_clear()
    get_engine.cache_clear()
    yield engine
    get_engine(migrated_url).dispose()  # the engine ``siae documents`` kept
    get_settings.cache_clear()
    get_engine.cache_clear()


TODAY = datetime(2026, 11, 23, 9, 0)
DECREE_DAY = datetime(2026, 12, 18, 9, 0)  # the 2027 decree is published mid-December


def siae(*args: str, ok: bool = True, on: datetime = TODAY) -> Result:
    with time_machine.travel(on, tick=False):
        result = runner.invoke(app, list(args))
    if ok:
        assert result.exit_code == 0, f"siae {' '.join(args)}\n{result.output}"
    return result


def _text(path: Path) -> str:
    doc = Document(str(path))
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    pages = [p.text for s in doc.sections for p in s.header.paragraphs + s.footer.paragraphs]
    return "\n".join([p.text for p in doc.paragraphs] + cells + pages)


def _enter(dossier: Path, operateurs: Path) -> None:
    for kind in ("etablissements", "siae", "personnes"):
        siae("importer", kind, str(SAMPLES / f"{kind}.csv"))
    siae("projet", "creer", "--etablissement", "1", "--chef", "1")
    siae("projet", "completer", "1", "--fichier", str(dossier))
    result = siae("operateurs", "importer", "1", str(operateurs))
    assert "3 opérateur(s) enregistré(s)" in result.output


def _check_pack(folder: Path, with_pdf: bool) -> dict[str, str]:
    texts = {path.name: _text(path) for path in sorted(folder.glob("*.docx"))}
    assert len(texts) == 9  # DUI, convention, contract, and a CEP and its annex per opérateur
    for name, text in texts.items():
        assert "DÉMONSTRATION" not in text, name
        assert "Varces-Allières-et-Risset, Varces-Allières-et-Risset" not in text, name
        assert "s'achève le sans objet" not in text and "pause de 0 minutes" not in text, name
        assert "guide" not in text.lower(), name  # legal references, never the guide as a basis
    if with_pdf:
        for name in texts:
            pdf = folder / name.replace(".docx", ".pdf")
            flat = subprocess.run(
                [PDFTOTEXT, str(pdf), "-"], capture_output=True, text=True, check=True
            ).stdout
            assert "DÉMONSTRATION" not in flat, pdf.name
    return texts


needs_pdf = pytest.mark.skipif(
    SOFFICE is None or PDFTOTEXT is None, reason="LibreOffice (soffice) et pdftotext requis pour les PDF/A"
)


@needs_pdf
def test_from_the_sample_csvs_to_a_complete_pack_on_the_shipped_amounts(
    terminal: Engine, tmp_path: Path
) -> None:
    _enter(SAMPLES / "dossier.toml", SAMPLES / "operateurs.csv")
    refused = siae("documents", "generer", "1", "--pdf", ok=False)
    # The only value no text sets nationally: the establishment's AT/MP rate, named with the command.
    assert refused.exit_code == 1 and "siae montants ajouter taux_atmp" in refused.output
    assert "DUI" not in refused.output  # an ACI's budget needs no employer rate
    siae(*ATMP)
    result = siae("documents", "generer", "1", "--pdf")
    assert "9 document(s) pour le projet IMP-2026-0001" in result.output
    assert result.output.count(".pdf") == 9

    folder = tmp_path / "data" / "documents" / "IMP-2026-0001"
    texts = _check_pack(folder, with_pdf=True)
    dui = texts["dui_IMP-2026-0001_v1.docx"].replace("\u202f", " ").replace(NBSP, " ")
    assert "Tri de textiles" in dui and "00000001800010" in dui
    assert "Année 1, charge : Salaires de l'encadrement (ETI et CIP)\n95 000,00 €" in dui
    assert "hypothèse : montant en vigueur au 06/12/2026 (Décret n° 2025-1228 du 17 décembre 2025" in dui
    convention = texts["convention_IMP-2026-0001_v1.docx"]
    assert "Claude Exemple, préfet de l'Isère, et par délégation Dominique Exemple" in convention
    assert "le préfet du département" not in convention
    cep_name = next(n for n in texts if n.startswith("cep_"))
    cep = texts[cep_name]
    assert re.search(
        r"Assurance maladie, maternité, invalidité et décès\npatronale\n4,2 %\n[\d ,]+ €\n[\d ,]+ €\n"
        r"Code de la sécurité sociale, articles L382-39 et R382-132",
        cep.replace(NBSP, " "),
    )
    assert f"5,41{NBSP}€" in cep and "revalorisée de plein droit" in cep
    assert "Code de la sécurité sociale, article" in cep and "guide" not in cep.lower()

    # A new SMIC from 1 January 2027: the three CEPs (starting 11 January 2027, printed at 5,41 €) are listed.
    result = siae(*SMIC_2027, on=DECREE_DAY)
    assert "3 CEP en vigueur ont une rémunération inférieure au nouveau plancher" in result.output
    assert result.output.count(f"5,63{NBSP}€") == 3
    siae("documents", "generer", "1", on=DECREE_DAY)
    new_ceps = sorted(folder.glob("cep_*_v2.docx"))
    assert len(new_ceps) == 3
    for path in new_ceps:
        text = _text(path)
        assert f"rémunération horaire brute de 5,63{NBSP}€" in text and "Décret n° 2026-9999" in text
    assert f"5,41{NBSP}€" in _text(folder / cep_name)  # the first version is kept as it was
    with Session(terminal) as session:
        assert verify(session.connection()).ok
        assert [r.key for r in session.exec(select(AmountRecord))] == ["taux_atmp", "smic_horaire_brut"]


def test_ceps_starting_in_december_2026_and_the_avenant_of_a_new_smic(
    terminal: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The December 2026 pack takes the SMIC in force on its start; a 2027 SMIC then lists its CEPs and
    e-mails the DISP lead that an avenant is due, once."""
    from aiosmtpd.controller import Controller

    sink = MailSink(port=free_port())
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port)
    controller.start()
    monkeypatch.setenv("SIAE_SMTP_PORT", str(sink.port))
    get_settings.cache_clear()
    try:
        dossier = tmp_path / "dossier.toml"
        dossier.write_text(
            (SAMPLES / "dossier.toml")
            .read_text(encoding="utf-8")
            .replace("2027-01-11", "2026-12-14")
            .replace("2030-01-10", "2029-12-13")
            .replace("2034-01-10", "2033-12-13"),
            encoding="utf-8",
        )
        operateurs = tmp_path / "operateurs.csv"
        operateurs.write_text(
            (SAMPLES / "operateurs.csv").read_text(encoding="utf-8").replace("2027-01-11", "2026-12-14"),
            encoding="utf-8",
        )
        _enter(dossier, operateurs)
        siae(*ATMP)
        result = siae("documents", "generer", "1")
        assert "9 document(s) pour le projet IMP-2026-0001" in result.output
        folder = tmp_path / "data" / "documents" / "IMP-2026-0001"
        texts = _check_pack(folder, with_pdf=False)
        cep = texts[next(n for n in texts if n.startswith("cep_"))]
        assert "fixée au 14 décembre 2026" in cep and f"brute de 5,41{NBSP}€" in cep
        assert "revalorisée de plein droit à chaque relèvement du SMIC" in cep

        result = siae(*SMIC_2027, on=DECREE_DAY)
        assert "3 CEP en vigueur ont une rémunération inférieure au nouveau plancher" in result.output
        assert "courriel envoyé à Camille Exemple (camille.exemple@example.org)" in result.output
        assert len(sink.mails) == 1
        mail = sink.mails[0]
        assert mail.rcpt_tos == ["camille.exemple@example.org"]
        assert "avenant dû pour 3 contrat(s) d'emploi pénitentiaire" in mail.subject
        assert f"à porter à 5,63{NBSP}€" in mail.body or "à porter à 5,63 €" in mail.body
        for name in ("Quintavalle", "Brisefer", "Vercoquin", "VARCES-0000"):  # opaque ids only
            assert name not in mail.body
        again = siae("montants", "avenants", on=DECREE_DAY)
        assert "courriel déjà envoyé" in again.output and len(sink.mails) == 1
        # The December CEPs keep the floor in force on their start: a new version is not a new floor.
        siae("documents", "generer", "1", on=DECREE_DAY)
        assert not list(folder.glob("cep_*_v2.docx"))
    finally:
        controller.stop()


def test_every_missing_fact_says_where_to_enter_it(terminal: Engine, cfg: ProcessConfig) -> None:
    """An empty project lists each missing fact with its dossier key, form field, CSV column or command."""
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
    with Session(terminal) as session:
        assert (
            session.exec(select(DocumentRecord.kind).where(DocumentRecord.kind == DocumentKind.DUI)).all()
            == []
        )
