"""A small one-page PDF recorded as a version's PDF/A, for the tests of the signature register that do not
exercise LibreOffice (its conversion is tested in tests/documents/test_documents_pdf.py and by the CLI
acceptance test, which sign real PDF/A files)."""

import io

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.writer import PageObject, PdfFileWriter
from sqlmodel import Session

from implantation.db.models import DocumentRecord
from implantation.documents import storage
from implantation.documents.service import PdfJob, record_pdfs


def one_page_pdf(text: str) -> bytes:
    writer = PdfFileWriter(stream_xrefs=False)
    safe = text.encode("latin-1", "replace").replace(b"(", b"[").replace(b")", b"]")
    content = writer.add_object(
        generic.StreamObject(stream_data=b"BT /F1 11 Tf 60 760 Td (" + safe + b") Tj ET")
    )
    font = writer.add_object(
        generic.DictionaryObject(
            {
                generic.NameObject("/Type"): generic.NameObject("/Font"),
                generic.NameObject("/Subtype"): generic.NameObject("/Type1"),
                generic.NameObject("/BaseFont"): generic.NameObject("/Helvetica"),
            }
        )
    )
    resources = generic.DictionaryObject(
        {generic.NameObject("/Font"): generic.DictionaryObject({generic.NameObject("/F1"): font})}
    )
    writer.insert_page(PageObject(contents=content, media_box=(0, 0, 595, 842), resources=resources))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def record_pdf(session: Session, record: DocumentRecord) -> bytes:
    """Record a PDF for ``record`` through the service's own recording step; returns its bytes."""
    assert record.id is not None
    pdf = one_page_pdf(f"{record.filename} : {record.sha256}")
    job = PdfJob(record.id, record.filename, record.sha256, storage.docx_bytes(session, record))
    record_pdfs(session, [(job, pdf)])
    return pdf
