"""Revision 0010 takes the bytes of the versions made before it from the upgrading machine's folder."""

import hashlib
from pathlib import Path

import pytest
from sqlalchemy import text

from implantation.db.migrate import upgrade
from implantation.db.session import make_engine


def test_existing_files_are_imported_when_they_match_their_row(
    fresh_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "data" / "documents" / "IMP-2026-0001"
    folder.mkdir(parents=True)
    kept, altered = b"PK docx v1", b"PK docx v2"
    (folder / "dui_IMP-2026-0001_v1.docx").write_bytes(kept)
    (folder / "dui_IMP-2026-0001_v2.docx").write_bytes(altered + b" changed on disk")
    monkeypatch.setenv("SIAE_DATA_DIR", str(tmp_path / "data"))
    engine = make_engine(fresh_url)
    try:
        upgrade(engine, "0009_montants_en_vigueur")
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO establishment (code, name, type, departement, city) "
                    "VALUES ('CP-X', 'CP X', 'CP', '38', 'X')"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO person (full_name, email, organisation, role, territory, signatory) "
                    "VALUES ('Chef', 'chef@example.org', 'DISP', 'disp', 'LYON', false)"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO implantation_project (reference, establishment_id, lead_id, status, "
                    "current_stage, started_on, implantation_tacit_renewal, created_at) VALUES "
                    "('IMP-2026-0001', 1, 1, 'en_cours', 5, '2026-10-01', true, '2026-10-01 08:00:00')"
                )
            )
            for version, content in ((1, kept), (2, altered)):
                conn.execute(
                    text(
                        "INSERT INTO document (project_id, kind, version, filename, sha256, status, "
                        "demonstration, created_at) VALUES (1, 'dui', :v, :f, :h, 'brouillon', false, "
                        "'2026-10-01 08:00:00')"
                    ),
                    {
                        "v": version,
                        "f": f"dui_IMP-2026-0001_v{version}.docx",
                        "h": hashlib.sha256(content).hexdigest(),
                    },
                )
        upgrade(engine)
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT document_id, purpose, content FROM document_file")).all()
        assert [(r.document_id, r.purpose, bytes(r.content)) for r in rows] == [(1, "docx", kept)]
    finally:
        engine.dispose()
