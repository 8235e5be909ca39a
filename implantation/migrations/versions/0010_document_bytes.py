"""document bytes in the application database

Revision ID: 0010_document_bytes
Revises: 0009_montants_en_vigueur

Every runner reads a document's DOCX and PDF/A from the database, not from one machine's disk. The
bytes of the versions produced before this revision are taken from the documents folder of the machine
that upgrades (``SIAE_DATA_DIR/documents``) when the file there still has the recorded checksum; a
version whose file is absent keeps no bytes and is produced again by the next generation.
"""

import hashlib
import os
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision: str = "0010_document_bytes"
down_revision: str | Sequence[str] | None = "0009_montants_en_vigueur"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _documents_dir() -> Path:
    return Path(os.environ.get("SIAE_DATA_DIR", "data")) / "documents"


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-") or "projet"


def upgrade() -> None:
    table = op.create_table(
        "document_file",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("size >= 0", name=op.f("ck_document_file_size_bounds")),
        sa.ForeignKeyConstraint(
            ["document_id"], ["document.id"], name=op.f("fk_document_file_document_id_document")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_file")),
        sa.UniqueConstraint("document_id", "purpose", "sha256", name="uq_document_file_content"),
    )
    with op.batch_alter_table("document_file", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_document_file_document_id"), ["document_id"], unique=False)
    _import_files(table)


def _import_files(table: sa.Table) -> None:
    conn = op.get_bind()
    rows = conn.execute(
        sa.text(
            "SELECT d.id, p.reference, d.filename, d.sha256, d.pdf_filename, d.pdf_sha256 "
            "FROM document d JOIN implantation_project p ON p.id = d.project_id"
        )
    ).all()
    root = _documents_dir()
    now = datetime.now(UTC)
    for row in rows:
        folder = root / _safe(row.reference)
        for purpose, name, checksum, media in (
            ("docx", row.filename, row.sha256, DOCX),
            ("pdf", row.pdf_filename, row.pdf_sha256, "application/pdf"),
        ):
            path = folder / name if name else None
            if path is None or not path.is_file():
                continue
            content = path.read_bytes()
            if hashlib.sha256(content).hexdigest() != checksum:
                continue
            conn.execute(
                table.insert().values(
                    document_id=row.id,
                    purpose=purpose,
                    media_type=media,
                    sha256=checksum,
                    size=len(content),
                    content=content,
                    created_at=now,
                )
            )


def downgrade() -> None:
    with op.batch_alter_table("document_file", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_document_file_document_id"))
    op.drop_table("document_file")
