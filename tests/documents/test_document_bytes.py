"""The bytes of each version live in the application database: another machine finds them."""

import shutil

from pdf_samples import record_pdf
from sqlalchemy import update
from sqlmodel import Session, col, select

from implantation.config.schema import ProcessConfig
from implantation.db.models import DocumentFile, DocumentRecord
from implantation.documents import storage
from implantation.documents.parties import signers_for_document
from implantation.documents.service import generate_pack, project_dir
from implantation.services.errors import DomainError
from implantation.services.gate_requirements import contract_problems
from implantation.settings import Settings, get_settings
from implantation.signatures.authority import demo_authority
from implantation.signatures.register import sign_with_certificate


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


def test_runner_b_replaying_the_gate_keeps_the_versions_signed_on_runner_a(
    session: Session, project_id: int, cfg: ProcessConfig, settings: Settings, tmp_path, monkeypatch
) -> None:
    """Runner A produced the pack and collected the certificate signatures; its disk is gone; runner B (own
    data folder, same database) replays the stage-5 gate: same versions, signatures still verified."""
    database = f"sqlite:///{tmp_path / 'test.db'}"  # the session's database, shared by both runners
    runner_a = settings.model_copy(update={"database_url": database})
    records = generate_pack(session, project_id, cfg, runner_a)
    authority = demo_authority(tmp_path)  # beside the shared SQLite database: both runners trust it
    for record in records:
        if record.operateur_id is not None:
            continue
        record_pdf(session, record)
        signers = signers_for_document(session, cfg, project_id, None)
        for slot in cfg.documents.document[record.kind].signers:
            who = signers[slot].printed
            assert who is not None
            p12 = authority.issue_p12(who.name, who.organisation or who.office, "x")
            sign_with_certificate(session, cfg, runner_a, project_id, record.id, p12, "x")  # type: ignore[arg-type]
    session.commit()
    shutil.rmtree(runner_a.documents_dir)

    runner_b = tmp_path / "runner-b"
    monkeypatch.setenv("SIAE_DATA_DIR", str(runner_b))
    monkeypatch.setenv("SIAE_DATABASE_URL", database)
    get_settings.cache_clear()
    try:
        replayed = generate_pack(session, project_id, cfg, get_settings())
        assert [r.id for r in replayed] == [r.id for r in records]
        assert contract_problems(session, cfg, project_id) == []
    finally:
        get_settings.cache_clear()
