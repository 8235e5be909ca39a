"""Stage-5 pack generation, versions and signatures; the functions take a Session and the caller commits,
except :func:`generate_pack_with_pdf`, which runs its own short transactions around LibreOffice.

Versions: each (project, kind, opérateur) has numbered versions. A version with any signature is never
rewritten: new content always makes a new version. The bytes of each version (DOCX, then PDF/A) are rows
of the application database written in the version's own transaction (:mod:`implantation.documents.storage`),
so every runner finds them; the files under ``SIAE_DATA_DIR/documents`` are an export nothing reads back.
Resumption: with ``reuse_identical`` (the default), :func:`ensure_document` returns the latest version
untouched when its content checksum (template bytes + context data) equals the new one and its stored
bytes are intact, so a flow replayed after a crash, on any runner, creates no duplicate.

PDFs: :func:`generate_pack_with_pdf` commits the DOCX versions, converts them with no transaction open, then
records the PDFs: LibreOffice never holds the journal's lock, which every decision needs.

Two generations at once: each first locks the project row (:func:`lock_project`), so the second counts
the versions once the first has committed.
"""

import re
import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select, update

from implantation import dates
from implantation.config.schema import ProcessConfig
from implantation.db.models import DocumentRecord, ImplantationProject, Operateur, SignatureRecord
from implantation.db.session import session_scope
from implantation.documents import render, storage
from implantation.documents.builders import (
    DocumentDataError,
    build_cep_annex_context,
    build_cep_context,
    build_convention_context,
    build_dui_context,
    build_implantation_context,
    shared_reads,
)
from implantation.documents.parties import signer_problem, signers_for_document
from implantation.enums import (
    OPERATEUR_DOCUMENT_KINDS,
    PROJECT_DOCUMENT_KINDS,
    DocumentKind,
    DocumentStatus,
    OperateurStatus,
    Role,
)
from implantation.services.errors import DomainError
from implantation.settings import Settings

PROJECT_KINDS = PROJECT_DOCUMENT_KINDS
OPERATEUR_KINDS = OPERATEUR_DOCUMENT_KINDS


@dataclass(frozen=True)
class PackItem:
    kind: DocumentKind
    operateur_id: str | None
    context: BaseModel


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-") or "projet"


def document_filename(kind: DocumentKind, reference: str, operateur_id: str | None, version: int) -> str:
    """``convention_IMP-2026-0001_v2.docx``; CEPs carry the opaque opérateur id, never a name."""
    parts = [kind.value, _safe(reference)]
    if operateur_id:
        parts.append(_safe(operateur_id))
    return "_".join(parts) + f"_v{version}.docx"


def project_dir(settings: Settings, reference: str) -> Path:
    return settings.documents_dir / _safe(reference)


def assigned_operateurs(session: Session, project_id: int) -> list[Operateur]:
    return list(
        session.exec(
            select(Operateur)
            .where(Operateur.project_id == project_id, Operateur.status == OperateurStatus.ASSIGNED)
            .order_by(col(Operateur.id))
        )
    )


def build_pack(session: Session, project_id: int, cfg: ProcessConfig) -> list[PackItem]:
    """All stage-5 contexts: the three project documents, then a CEP and its annex per opérateur « affecté »."""
    builders = [
        (DocumentKind.DUI, build_dui_context),
        (DocumentKind.CONVENTION, build_convention_context),
        (DocumentKind.IMPLANTATION_CONTRACT, build_implantation_context),
    ]
    with shared_reads():  # the amounts and signatories, read once for the whole pack
        return _build_pack(session, project_id, cfg, builders)


def _build_pack(
    session: Session, project_id: int, cfg: ProcessConfig, builders: list[tuple[DocumentKind, Any]]
) -> list[PackItem]:
    items: list[PackItem] = []
    problems: list[str] = []
    for kind, build in builders:
        try:
            items.append(PackItem(kind, None, build(session, project_id, cfg)))
        except DocumentDataError as exc:
            problems += exc.problems
    for op in assigned_operateurs(session, project_id):
        for kind, op_build in (
            (DocumentKind.CEP, build_cep_context),
            (DocumentKind.CEP_ANNEX, build_cep_annex_context),
        ):
            try:
                items.append(PackItem(kind, op.id, op_build(session, project_id, op.id, cfg)))
            except DocumentDataError as exc:
                problems += [p for p in exc.problems if p not in problems]
    if problems:
        raise DocumentDataError(problems)
    return items


def _versions(
    session: Session, project_id: int, kind: DocumentKind, operateur_id: str | None
) -> list[DocumentRecord]:
    query = select(DocumentRecord).where(DocumentRecord.project_id == project_id, DocumentRecord.kind == kind)
    if operateur_id is None:
        query = query.where(col(DocumentRecord.operateur_id).is_(None))
    else:
        query = query.where(DocumentRecord.operateur_id == operateur_id)
    return list(session.exec(query.order_by(col(DocumentRecord.version))))


def _signatures(session: Session, document_id: int) -> list[SignatureRecord]:
    return list(session.exec(select(SignatureRecord).where(SignatureRecord.document_id == document_id)))


def _reusable(session: Session, record: DocumentRecord, checksum: str) -> bool:
    """The latest version says exactly what the data says now, and its stored bytes are intact: it stands,
    signed or not. A new version would be the same text without its signatures: the stage-5 gate, which
    produces the pack again at each new ask, would then ask every party to sign again after a refused
    answer."""
    return record.content_sha256 == checksum and storage.has_intact(session, record)


def lock_project(session: Session, project_id: int) -> None:
    """Hold the project row until the caller commits: a row lock on PostgreSQL, the write lock on SQLite
    (an UPDATE, since SQLite ignores SELECT … FOR UPDATE and its driver reads outside transactions)."""
    session.execute(
        update(ImplantationProject)
        .where(col(ImplantationProject.id) == project_id)
        .values(reference=col(ImplantationProject.reference))
        .execution_options(synchronize_session=False)
    )


def ensure_document(
    session: Session,
    project: ImplantationProject,
    item: PackItem,
    settings: Settings,
    *,
    reuse_identical: bool = True,
) -> tuple[DocumentRecord, bool]:
    """Render one document unless its latest version is identical (a signed one included); returns (record,
    newly created). A version is never rewritten: changed data makes the next one."""
    template = render.template_path(settings.templates_dir, item.kind)
    checksum = render.content_checksum(template, item.context)
    lock_project(session, project.id)  # type: ignore[arg-type]
    versions = _versions(session, project.id, item.kind, item.operateur_id)  # type: ignore[arg-type]
    if versions and reuse_identical and _reusable(session, versions[-1], checksum):
        return versions[-1], False
    version = versions[-1].version + 1 if versions else 1
    filename = document_filename(item.kind, project.reference, item.operateur_id, version)
    content = render.render_docx_bytes(template, item.context)
    record = DocumentRecord(
        project_id=project.id,  # type: ignore[arg-type]
        kind=item.kind,
        operateur_id=item.operateur_id,
        version=version,
        filename=filename,
        sha256=storage.sha256(content),
        content_sha256=checksum,
        demonstration=bool(getattr(item.context, "demonstration_banner", "")),
    )
    session.add(record)
    try:
        session.flush()
    except IntegrityError:
        raise DomainError(
            f"La version {version} de « {filename} » vient d'être produite par une autre génération : "
            "rien n'a été écrit, relancez la génération.",
            field="document",
        ) from None
    storage.store(session, record.id, storage.Purpose.DOCX, content, storage.DOCX_TYPE)  # type: ignore[arg-type]
    return record, True


def export_files(session: Session, settings: Settings, reference: str, records: list[DocumentRecord]) -> Path:
    """Copy the stored DOCX and PDF/A of ``records`` to this machine's documents folder, for people to
    open; returns the folder. Nothing reads these copies back."""
    folder = project_dir(settings, reference)
    for record in records:
        storage.export(folder, record.filename, storage.docx_bytes(session, record))
        pdf = storage.find(session, record.id, storage.Purpose.PDF, record.pdf_sha256)  # type: ignore[arg-type]
        if record.pdf_filename and record.pdf_sha256 and pdf is not None:
            storage.export(folder, record.pdf_filename, pdf.content)
    return folder


def pdf_converter(settings: Settings) -> str:
    soffice = render.find_soffice(settings.soffice_path)
    if soffice is None:
        raise render.LibreOfficeError(
            "LibreOffice (soffice) est introuvable : les PDF ne peuvent pas être produits. Installez LibreOffice "
            "(paquet libreoffice-writer-nogui) ou indiquez son chemin dans SIAE_SOFFICE_PATH, ou générez "
            "seulement les DOCX."
        )
    return soffice


def generate_pack(
    session: Session,
    project_id: int,
    cfg: ProcessConfig,
    settings: Settings,
    *,
    reuse_identical: bool = True,
) -> list[DocumentRecord]:
    """The stage-5 pack as DOCX; refuses before writing anything if data is missing. The PDFs are made
    outside the caller's transaction: :func:`generate_pack_with_pdf`."""
    project = session.get(ImplantationProject, project_id)
    if project is None:
        raise DomainError(f"Projet introuvable : identifiant {project_id}.", field="projet")
    items = build_pack(session, project_id, cfg)
    records = [
        ensure_document(session, project, item, settings, reuse_identical=reuse_identical)[0]
        for item in items
    ]
    session.flush()
    export_files(session, settings, project.reference, records)
    return records


@dataclass(frozen=True)
class PdfJob:
    """One DOCX to convert, as its row recorded it when the row was committed."""

    document_id: int
    filename: str
    sha256: str
    docx: bytes


def pdf_jobs(session: Session, records: list[DocumentRecord]) -> list[PdfJob]:
    """The documents whose PDF is not recorded, or whose stored PDF is missing."""
    return [
        PdfJob(record.id, record.filename, record.sha256, storage.docx_bytes(session, record))
        for record in records
        if record.id is not None
        and (
            record.pdf_sha256 is None
            or storage.find(session, record.id, storage.Purpose.PDF, record.pdf_sha256) is None
        )
    ]


def convert_jobs(soffice: str, jobs: list[PdfJob]) -> list[bytes]:
    """The PDF/A bytes of each job, converted from the stored DOCX in a private folder."""
    if not jobs:
        return []
    with tempfile.TemporaryDirectory(prefix="siae-pdf-") as folder:
        sources = []
        for job in jobs:
            path = Path(folder) / job.filename
            path.write_bytes(job.docx)
            sources.append(path)
        return [pdf.read_bytes() for pdf in render.convert_to_pdf(soffice, sources)]


def record_pdfs(session: Session, converted: list[tuple[PdfJob, bytes]]) -> None:
    """Record the PDFs made from the stored DOCX, bytes included; the PDF is not part of the journal's
    chain (it derives from the DOCX, which is), so this short transaction takes no lock of the journal."""
    for job, pdf in converted:
        record = session.get(DocumentRecord, job.document_id)
        if record is None or record.sha256 != job.sha256:
            continue  # not the file that was converted: left for the next conversion
        if record.pdf_sha256 is not None and storage.find(
            session, job.document_id, storage.Purpose.PDF, record.pdf_sha256
        ):
            continue  # converted meanwhile by another generation: that PDF stands (it may be signed)
        storage.store(session, job.document_id, storage.Purpose.PDF, pdf, storage.PDF_TYPE)
        record.pdf_filename = job.filename.removesuffix(".docx") + ".pdf"
        record.pdf_sha256 = storage.sha256(pdf)
        session.add(record)
    session.flush()


def generate_pack_with_pdf(
    engine: Engine,
    project_id: int,
    cfg: ProcessConfig,
    settings: Settings,
    *,
    reuse_identical: bool = True,
) -> list[DocumentRecord]:
    """The pack as DOCX and PDF/A, in three steps so that LibreOffice (up to minutes) never runs inside a
    transaction: the DOCX rows are committed (they extend the journal, whose lock every decision needs),
    the files are converted with no transaction open, then the PDFs are recorded in a short transaction.

    Refuses before writing anything if LibreOffice or data is missing. Interrupted after the first step,
    the DOCX stand; the next generation reuses them and converts what has no PDF.
    """
    soffice = pdf_converter(settings)
    with session_scope(engine) as session:
        records = generate_pack(session, project_id, cfg, settings, reuse_identical=reuse_identical)
        jobs = pdf_jobs(session, records)
        ids = [record.id for record in records]
    pdfs = convert_jobs(soffice, jobs)
    with session_scope(engine) as session:
        record_pdfs(session, list(zip(jobs, pdfs, strict=True)))
        done = [session.get(DocumentRecord, record_id) for record_id in ids]
        export_files(session, settings, project_reference(session, project_id), done)  # type: ignore[arg-type]
        return done  # type: ignore[return-value]


def ensure_pdfs(engine: Engine, settings: Settings, document_ids: list[int]) -> None:
    """The PDF/A of these versions, produced from their stored DOCX when missing (a version is signed on
    its PDF/A); LibreOffice runs with no transaction open, as in :func:`generate_pack_with_pdf`."""
    with session_scope(engine) as session:
        records = [r for r in (session.get(DocumentRecord, i) for i in document_ids) if r is not None]
        jobs = pdf_jobs(session, records)
    if not jobs:
        return
    pdfs = convert_jobs(pdf_converter(settings), jobs)
    with session_scope(engine) as session:
        record_pdfs(session, list(zip(jobs, pdfs, strict=True)))


def project_reference(session: Session, project_id: int) -> str:
    project = session.get(ImplantationProject, project_id)
    if project is None:
        raise DomainError(f"Projet introuvable : identifiant {project_id}.", field="projet")
    return project.reference


def _status(cfg: ProcessConfig, record: DocumentRecord, signed_roles: set[Role]) -> DocumentStatus:
    spec = cfg.documents.document[record.kind]
    given = {spec.signs_for(role) for role in signed_roles}
    if set(spec.signers) <= given:
        return DocumentStatus.SIGNED
    return DocumentStatus.PARTIALLY_SIGNED if signed_roles else DocumentStatus.DRAFT


def record_signature(
    session: Session,
    document_id: int,
    role: Role,
    signer_label: str,
    signed_on: date,
    cfg: ProcessConfig,
    today: date | None = None,
) -> DocumentRecord:
    """One party's signature on one version; the document is « signé » once every signer of the matrix signed."""
    record = session.get(DocumentRecord, document_id)
    if record is None:
        raise DomainError(f"Document introuvable : identifiant {document_id}.", field="document")
    spec = cfg.documents.document[record.kind]
    if record.demonstration:
        raise DomainError(
            f"« {record.filename} » est un document de démonstration, produit avec des montants non "
            "réglementaires : il ne peut pas être signé. Saisissez les montants manquants avec leur texte "
            "(siae montants ajouter), puis produisez une nouvelle version.",
            field="document",
        )
    slot = spec.signs_for(role)
    if slot is None:
        expected = ", ".join(r.label for r in spec.signers + list(spec.delegations))
        raise DomainError(
            f"« {role.label} » ne signe pas le document « {spec.titre} » (signataires : {expected}).",
            field="role",
        )
    if not signer_label.strip():
        raise DomainError("Le nom du signataire est obligatoire.", field="signataire")
    if len(signer_label.strip()) > 200:
        raise DomainError("Le nom et la qualité du signataire dépassent 200 caractères.", field="signataire")
    if signed_on > (today or dates.today()):
        raise DomainError("La date de signature ne peut pas être dans le futur.", field="date")
    latest = _versions(session, record.project_id, record.kind, record.operateur_id)[-1]
    if latest.id != record.id:
        raise DomainError(
            f"La version {record.version} a été remplacée par la version {latest.version} : "
            "faites signer la dernière version.",
            field="document",
        )
    signers = signers_for_document(session, cfg, record.project_id, record.operateur_id)
    problem = signer_problem(signers.get(slot), role, slot, signer_label.strip())
    if problem:
        raise DomainError(problem[0].upper() + problem[1:] + ".", field="signataire")
    signatures = _signatures(session, document_id)
    earlier = next((s for s in signatures if spec.signs_for(s.party_role) == slot), None)
    if earlier is not None:
        if earlier.party_role == role:
            raise DomainError(f"« {role.label} » a déjà signé ce document.", field="role")
        raise DomainError(
            f"« {earlier.party_role.label} » a déjà signé ce document pour « {slot.label} » : "
            f"« {role.label} » ne le signe pas une seconde fois.",
            field="role",
        )
    signature = SignatureRecord(
        document_id=document_id, party_role=role, signer_label=signer_label.strip(), signed_on=signed_on
    )
    session.add(signature)
    record.status = _status(cfg, record, {s.party_role for s in signatures} | {role})
    session.add(record)
    session.flush()
    return record


@dataclass(frozen=True)
class SignatureState:
    role: Role
    signer_label: str | None = None
    signed_on: date | None = None
    # Who signed, when it is a delegate signing for ``role`` (the DDETS for the préfet).
    signed_by: Role | None = None
    # Who may sign, as printed: « Préfet (ou DDETS pour lui) ».
    label: str = ""


@dataclass(frozen=True)
class DocumentState:
    record: DocumentRecord
    title: str
    latest: bool
    status: DocumentStatus
    parties: list[SignatureState] = field(default_factory=list)

    @property
    def missing(self) -> list[Role]:
        return [p.role for p in self.parties if p.signed_on is None]

    @property
    def missing_labels(self) -> list[str]:
        return [p.label or p.role.label for p in self.parties if p.signed_on is None]


def document_states(session: Session, project_id: int, cfg: ProcessConfig) -> list[DocumentState]:
    """Every version of every document of a project, with who signed and who has yet to sign."""
    records = list(
        session.exec(
            select(DocumentRecord)
            .where(DocumentRecord.project_id == project_id)
            .order_by(col(DocumentRecord.kind), col(DocumentRecord.operateur_id), col(DocumentRecord.version))
        )
    )
    latest: dict[tuple[DocumentKind, str | None], int] = {}
    for r in records:
        latest[(r.kind, r.operateur_id)] = r.version
    out = []
    for r in records:
        spec = cfg.documents.document[r.kind]
        signatures = _signatures(session, r.id)  # type: ignore[arg-type]
        signed = {spec.signs_for(s.party_role): s for s in signatures}
        parties = [
            SignatureState(
                role,
                signed[role].signer_label,
                signed[role].signed_on,
                None if signed[role].party_role == role else signed[role].party_role,
                spec.signer_label(role),
            )
            if role in signed
            else SignatureState(role, label=spec.signer_label(role))
            for role in spec.signers
        ]
        out.append(
            DocumentState(
                record=r,
                title=spec.titre,
                latest=latest[(r.kind, r.operateur_id)] == r.version,
                status=_status(cfg, r, {s.party_role for s in signatures}),
                parties=parties,
            )
        )
    return out
