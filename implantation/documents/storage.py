"""Document bytes in the application database, the one place every runner reads them from.

A document version's DOCX and PDF/A, the signed PDFs the parties return and the scans of handwritten
signatures are rows of ``document_file``, written in the transaction that writes the row they belong to,
with their SHA-256 beside them. The files under ``SIAE_DATA_DIR/documents`` are an export for people who
want to open them: nothing reads them back.
"""

import hashlib
import os
import uuid
from enum import StrEnum
from pathlib import Path

from sqlmodel import Session, col, select

from implantation.db.models import DocumentFile, DocumentRecord
from implantation.services.errors import DomainError

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PDF_TYPE = "application/pdf"


class Purpose(StrEnum):
    DOCX = "docx"
    PDF = "pdf"
    SIGNED_PDF = "pdf_signe"
    SCAN = "scan"


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def store(
    session: Session, document_id: int, purpose: Purpose, content: bytes, media_type: str
) -> DocumentFile:
    """Keep ``content`` for the document (once: the same bytes stored twice are one row)."""
    checksum = sha256(content)
    existing = session.exec(
        select(DocumentFile).where(
            DocumentFile.document_id == document_id,
            DocumentFile.purpose == purpose.value,
            DocumentFile.sha256 == checksum,
        )
    ).first()
    if existing is not None:
        return existing
    row = DocumentFile(
        document_id=document_id,
        purpose=purpose.value,
        media_type=media_type,
        sha256=checksum,
        size=len(content),
        content=content,
    )
    session.add(row)
    session.flush()
    return row


def find(session: Session, document_id: int, purpose: Purpose, checksum: str | None) -> DocumentFile | None:
    """The stored file of that purpose whose recorded checksum is ``checksum`` (the latest if None)."""
    query = select(DocumentFile).where(
        DocumentFile.document_id == document_id, DocumentFile.purpose == purpose.value
    )
    if checksum is not None:
        query = query.where(DocumentFile.sha256 == checksum)
    return session.exec(query.order_by(col(DocumentFile.id).desc())).first()


def docx_bytes(session: Session, record: DocumentRecord) -> bytes:
    return _checked(session, record, Purpose.DOCX, record.sha256, record.filename)


def pdf_bytes(session: Session, record: DocumentRecord) -> bytes:
    if record.pdf_sha256 is None or record.pdf_filename is None:
        raise DomainError(
            f"« {record.filename} » n'a pas de PDF/A : produisez-le (« siae documents generer "
            f"{record.project_id} --pdf »).",
            field="document",
        )
    return _checked(session, record, Purpose.PDF, record.pdf_sha256, record.pdf_filename)


def _checked(session: Session, record: DocumentRecord, purpose: Purpose, checksum: str, name: str) -> bytes:
    """The bytes, refused unless they still have the checksum recorded when the version was made."""
    row = find(session, record.id, purpose, checksum)  # type: ignore[arg-type]
    if row is None:
        raise DomainError(
            f"Le contenu de « {name} » n'est pas dans la base de l'application : produisez une nouvelle "
            f"version (« siae documents generer {record.project_id} »).",
            field="document",
        )
    if sha256(row.content) != checksum:
        raise DomainError(
            f"Le contenu de « {name} » enregistré dans la base a été modifié : son empreinte ne correspond "
            "plus à celle de la version.",
            field="document",
        )
    return row.content


def has_intact(session: Session, record: DocumentRecord) -> bool:
    row = find(session, record.id, Purpose.DOCX, record.sha256)  # type: ignore[arg-type]
    return row is not None and sha256(row.content) == record.sha256


def export(folder: Path, name: str, content: bytes) -> Path:
    """Write a copy under ``folder`` for people to open (a temporary name then a move: never half a file)."""
    target = folder / name
    if target.is_file() and target.stat().st_size == len(content) and target.read_bytes() == content:
        return target
    folder.mkdir(parents=True, exist_ok=True)
    temporary = folder / f".{name}.{uuid.uuid4().hex}.tmp"
    temporary.write_bytes(content)
    os.replace(temporary, target)
    return target
