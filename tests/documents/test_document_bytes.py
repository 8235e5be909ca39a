"""The bytes of each version live in the application database: another machine finds them."""

import shutil

from sqlalchemy import update
from sqlmodel import Session, col, select

from implantation.config.schema import ProcessConfig
from implantation.db.models import DocumentFile, DocumentRecord
from implantation.documents import storage
from implantation.documents.service import generate_pack, project_dir
from implantation.services.errors import DomainError
from implantation.settings import Settings


def test_a_second_machine_reads_the_bytes_and_a_replay_mints_no_new_version(
    session: Session, project_id: int, cfg: ProcessConfig, settings: Settings, tmp_path
) -> None:
    first = generate_pack(session, project_id, cfg, settings)
    session.commit()
    for record in first:
        stored = storage.docx_bytes(session, record)
        assert storage.sha256(stored) == record.sha256
        exported = project_dir(settings, "IMP-2026-0001") / record.filename
        assert exported.read_bytes() == stored
    # Machine A's disk is gone; machine B has its own data folder and the same database.
    shutil.rmtree(settings.documents_dir)
    other = settings.model_copy(update={"data_dir": tmp_path / "machine-b"})
    replayed = generate_pack(session, project_id, cfg, other)
    assert [r.id for r in replayed] == [r.id for r in first]
    assert len(session.exec(select(DocumentRecord)).all()) == len(first)
    for record in replayed:
        exported = project_dir(other, "IMP-2026-0001") / record.filename
        assert storage.sha256(exported.read_bytes()) == record.sha256
    assert not settings.documents_dir.exists()


def test_bytes_altered_in_storage_are_refused_and_the_next_generation_makes_a_new_version(
    session: Session, project_id: int, cfg: ProcessConfig, settings: Settings
) -> None:
    first = generate_pack(session, project_id, cfg, settings)
    session.commit()
    target = first[0]
    row = storage.find(session, target.id, storage.Purpose.DOCX, target.sha256)  # type: ignore[arg-type]
    assert row is not None
    altered = bytearray(row.content)
    altered[len(altered) // 2] ^= 0x01
    session.execute(update(DocumentFile).where(col(DocumentFile.id) == row.id).values(content=bytes(altered)))
    session.commit()
    session.expire_all()
    try:
        storage.docx_bytes(session, target)
    except DomainError as refused:
        assert "a été modifié" in str(refused) and target.filename in str(refused)
    else:
        raise AssertionError("contenu modifié accepté")
    again = generate_pack(session, project_id, cfg, settings)
    assert again[0].version == target.version + 1
    assert [r.id for r in again[1:]] == [r.id for r in first[1:]]
