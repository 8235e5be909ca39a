"""The signature register: signatures that count because they verify, recorded in the application database.

- :func:`deposit`: a signed PDF returned by a party (parapheur, the SIAE's own tool) is checked against
  the stored PDF/A version it must begin with, every signature verified (:mod:`.pdf`), each signer matched
  to the person the document names (or a recorded delegate); then one signature per party is recorded,
  with its proof. Any refusal records nothing.
- :func:`sign_with_certificate`: an agent's .p12 signs the latest signed file (or the PDF/A) in the
  party's field, then the result is deposited as above.
- :func:`record_handwritten`: the opérateur's signature on paper, as a scan witnessed by an agent.
- :func:`verify_project`: every recorded proof checked again against the stored bytes.

The functions take a Session; the caller commits. Signed files and scans stay in the application
database: nothing here goes to Prefect.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from sqlmodel import Session, col, select

from implantation.config.schema import DocumentSpec, ProcessConfig
from implantation.db.models import DocumentFile, DocumentRecord, SignatureEvidence, SignatureRecord
from implantation.documents import storage
from implantation.documents.parties import Signatory, normalised, signers_for_document
from implantation.enums import DocumentStatus, Role
from implantation.services.errors import DomainError
from implantation.settings import Mode, Settings
from implantation.signatures import pdf, scan
from implantation.signatures.trust import TrustAnchors, TrustConfigError, load_anchors

CERTIFICATE = "certificat"
HANDWRITTEN = "manuscrite"
METHOD_LABELS = {
    CERTIFICATE: "signature électronique vérifiée",
    HANDWRITTEN: "signature manuscrite (numérisation, témoin)",
    None: "signature déclarée",
}


def demo_dirs(settings: Settings) -> list[Path]:
    """Where a demonstration authority may be, in demo and test mode only: the data folder, and the folder
    of the SQLite database (``make demo`` keeps both together, so a copy of its data carries its authority)."""
    if settings.mode == Mode.PRODUCTION:
        return []
    found = [settings.data_dir]
    url = settings.effective_database_url
    if url.startswith("sqlite:///"):
        found.append(Path(url.removeprefix("sqlite:///")).parent)
    return found


def anchors_for(settings: Settings) -> TrustAnchors:
    """The anchors of ``config/autorites``; the demonstration authority only in demo and test mode."""
    try:
        return load_anchors(settings.config_dir, demo_dirs(settings))
    except TrustConfigError as exc:
        raise DomainError(f"Autorités de confiance : {exc}.", field="autorites") from None


def _refuse(document: DocumentRecord | None, reason: str) -> DomainError:
    where = f"« {document.pdf_filename or document.filename} » : " if document is not None else ""
    return DomainError(f"Signature refusée, rien n'est enregistré. {where}{reason[0].upper()}{reason[1:]}.")


def _latest(session: Session, record: DocumentRecord) -> DocumentRecord:
    query = select(DocumentRecord).where(
        DocumentRecord.project_id == record.project_id, DocumentRecord.kind == record.kind
    )
    if record.operateur_id is None:
        query = query.where(col(DocumentRecord.operateur_id).is_(None))
    else:
        query = query.where(DocumentRecord.operateur_id == record.operateur_id)
    latest = session.exec(query.order_by(col(DocumentRecord.version).desc())).first()
    assert latest is not None
    return latest


def _signable(session: Session, record: DocumentRecord) -> None:
    if record.demonstration:
        raise _refuse(
            record,
            "c'est un document de démonstration, produit avec des montants non réglementaires : il ne peut "
            "pas être signé",
        )
    latest = _latest(session, record)
    if latest.id != record.id:
        raise _refuse(
            record,
            f"la version {record.version} a été remplacée par la version {latest.version} : faites signer "
            "la dernière version",
        )


@dataclass(frozen=True)
class Match:
    slot: Role  # the signature given (the préfet's, for a DDETS delegate)
    role: Role  # who gives it
    signatory: Signatory


def _organisation_matches(expected: str, given: str) -> bool:
    if not expected:
        return True
    a, b = normalised(expected), normalised(given)
    return bool(b) and (a == b or a in b or b in a)


def match_signer(
    session: Session, cfg: ProcessConfig, record: DocumentRecord, identity: pdf.Identity
) -> Match | str:
    """The party whose signature ``identity`` gives on ``record``, or why it gives none (French)."""
    spec = cfg.documents.document[record.kind]
    signers = signers_for_document(session, cfg, record.project_id, record.operateur_id)
    wanted = normalised(identity.common_name)
    for slot in spec.signers:
        if slot == Role.OPERATEUR:
            continue  # the opérateur signs on paper
        party = signers.get(slot)
        if party is None:
            continue
        for person in party.accepted:
            if normalised(person.name) != wanted:
                continue
            if person.act and person.role is not None and person.role != slot:
                if spec.signs_for(person.role) != slot:
                    continue
                role = person.role
            else:
                role = slot
            if not _organisation_matches(person.organisation, identity.organisation):
                return (
                    f"le certificat de {identity.common_name} est au nom de l'organisation "
                    f"« {identity.organisation or 'aucune'} », alors que le document nomme "
                    f"{person.name} pour « {person.organisation} »"
                )
            return Match(slot, role, person)
    printed = ", ".join(
        f"{party.printed.name} ({slot.label})"
        for slot in spec.signers
        if slot != Role.OPERATEUR and (party := signers.get(slot)) is not None and party.printed
    )
    return (
        f"le certificat est au nom de « {identity.common_name} » ({identity.organisation or 'sans organisation'}), "
        f"qui n'est pas un signataire de ce document (le document nomme : {printed or 'personne'}) ; une autre "
        "personne ne signe qu'avec une délégation enregistrée"
    )


def _status(spec: DocumentSpec, signatures: list[SignatureRecord]) -> DocumentStatus:
    given = {spec.signs_for(s.party_role) for s in signatures}
    if set(spec.signers) <= given:
        return DocumentStatus.SIGNED
    return DocumentStatus.PARTIALLY_SIGNED if signatures else DocumentStatus.DRAFT


def _signatures(session: Session, document_id: int) -> list[SignatureRecord]:
    return list(session.exec(select(SignatureRecord).where(SignatureRecord.document_id == document_id)))


def _evidence(session: Session, signature_id: int) -> SignatureEvidence | None:
    return session.exec(
        select(SignatureEvidence).where(SignatureEvidence.signature_id == signature_id)
    ).first()


def _documents_with_pdf(session: Session, project_id: int) -> list[DocumentRecord]:
    return list(
        session.exec(
            select(DocumentRecord)
            .where(DocumentRecord.project_id == project_id, col(DocumentRecord.pdf_sha256).is_not(None))
            .order_by(col(DocumentRecord.id))
        )
    )


def find_signed_document(session: Session, project_id: int, content: bytes) -> DocumentRecord:
    """The version whose stored PDF/A the signed file begins with."""
    for record in _documents_with_pdf(session, project_id):
        stored = storage.find(session, record.id, storage.Purpose.PDF, record.pdf_sha256)  # type: ignore[arg-type]
        if stored is not None and len(content) > stored.size and content.startswith(stored.content):
            return record
    raise _refuse(
        None,
        "le fichier ne commence par aucune version PDF/A produite pour ce projet : le document a été modifié "
        "avant d'être signé, ou il n'a pas été produit par l'application (« siae documents generer … --pdf »)",
    )


@dataclass(frozen=True)
class Deposited:
    record: DocumentRecord
    recorded: list[tuple[Match, pdf.CheckedSignature]]
    already: list[pdf.CheckedSignature]


def deposit(
    session: Session,
    cfg: ProcessConfig,
    settings: Settings,
    project_id: int,
    content: bytes,
    *,
    document: DocumentRecord | None = None,
) -> Deposited:
    """Verify a signed PDF and record the new signatures it carries; refuses (nothing written) if any
    signature does not count."""
    record = document or find_signed_document(session, project_id, content)
    if record.project_id != project_id:
        raise _refuse(record, "ce document n'appartient pas à ce projet")
    _signable(session, record)
    base = storage.pdf_bytes(session, record)
    try:
        checks = pdf.verify(content, base, anchors_for(settings))
    except pdf.SignatureRefused as exc:
        raise _refuse(record, str(exc)) from None
    spec = cfg.documents.document[record.kind]
    existing = {
        spec.signs_for(s.party_role): (s, _evidence(session, s.id))  # type: ignore[arg-type]
        for s in _signatures(session, record.id)  # type: ignore[arg-type]
    }
    new: list[tuple[Match, pdf.CheckedSignature]] = []
    already: list[pdf.CheckedSignature] = []
    # A « signature déclarée » of the same person gets the proof it lacked (the journal keeps the row).
    declared: dict[Role, SignatureRecord] = {}
    for check in checks:
        found = match_signer(session, cfg, record, pdf.Identity(check.common_name, check.organisation))
        if isinstance(found, str):
            raise _refuse(record, f"signature « {check.field_name} » : {found}")
        earlier = existing.get(found.slot)
        if earlier is not None:
            signature, proof = earlier
            if proof is not None and proof.serial == check.serial and proof.field_name == check.field_name:
                already.append(check)
                continue
            if (
                proof is None
                and signature.party_role == found.role
                and normalised(signature.signer_label) == normalised(found.signatory.name)
            ):
                declared[found.slot] = signature
                new.append((found, check))
                continue
            kind = METHOD_LABELS[proof.method if proof else None]
            raise _refuse(
                record,
                f"« {found.slot.label} » a déjà signé ce document ({kind}, {signature.signer_label}) : "
                f"la signature « {check.field_name} » de {check.common_name} est en trop",
            )
        if any(m.slot == found.slot for m, _ in new):
            raise _refuse(record, f"deux signatures pour « {found.slot.label} » dans le même fichier")
        new.append((found, check))
    if not new:
        return Deposited(record, [], already)
    stored = storage.store(session, record.id, storage.Purpose.SIGNED_PDF, content, storage.PDF_TYPE)  # type: ignore[arg-type]
    now = datetime.now(UTC)
    for match, check in new:
        signature = (
            declared.get(match.slot)
            or SignatureRecord(
                document_id=record.id,  # type: ignore[arg-type]
                party_role=match.role,
                signer_label=f"{check.common_name}, {check.organisation}"[:200],
                signed_on=(check.signing_time or now).date(),
            )
        )
        session.add(signature)
        session.flush()
        session.add(
            SignatureEvidence(
                signature_id=signature.id,  # type: ignore[arg-type]
                method=CERTIFICATE,
                file_id=stored.id,  # type: ignore[arg-type]
                file_sha256=stored.sha256,
                field_name=check.field_name,
                subject=check.subject[:500],
                serial=check.serial,
                issuer=check.issuer[:500],
                signing_time=check.signing_time,
                verified_at=now,
                validation=check.summary,
                demonstration=check.demonstration,
            )
        )
    record.status = _status(spec, _signatures(session, record.id))  # type: ignore[arg-type]
    session.add(record)
    session.flush()
    return Deposited(record, new, already)


def latest_signed_file(session: Session, record: DocumentRecord) -> bytes:
    """The file carrying every certificate signature of the version so far (the PDF/A if none): the next
    signer signs it, so that each earlier signature stays in the file and valid."""
    rows = list(
        session.exec(
            select(DocumentFile)
            .where(
                DocumentFile.document_id == record.id,
                DocumentFile.purpose == storage.Purpose.SIGNED_PDF.value,
            )
            .order_by(col(DocumentFile.size).desc(), col(DocumentFile.id).desc())
        )
    )
    base = storage.pdf_bytes(session, record)
    for row in rows:
        if storage.sha256(row.content) == row.sha256 and row.content.startswith(base):
            return row.content
    return base


def _field_box(spec: DocumentSpec, slot: Role, width: float) -> tuple[int, int, int, int]:
    """The party's place at the foot of the last page, where the signature blocks end every document:
    one column per signature, in the order the blocks are printed."""
    slots: list[Role] = [s for s in spec.signers if s != Role.OPERATEUR] or [slot]
    index = slots.index(slot) if slot in slots else 0
    margin, gap = 40.0, 8.0
    column = (width - 2 * margin) / len(slots)
    left = margin + index * column
    return int(left), 36, int(left + column - gap), 96


def sign_with_certificate(
    session: Session,
    cfg: ProcessConfig,
    settings: Settings,
    project_id: int,
    document_id: int,
    p12: bytes,
    passphrase: str,
) -> Deposited:
    """Sign the version with an agent's certificate file (PAdES baseline, incremental), then deposit it."""
    record = session.get(DocumentRecord, document_id)
    if record is None or record.project_id != project_id:
        raise DomainError(
            f"Document introuvable dans ce projet : identifiant {document_id} (voir « siae documents lister »).",
            field="document",
        )
    _signable(session, record)
    try:
        signer = pdf.load_p12(p12, passphrase)
    except pdf.SignatureRefused as exc:
        raise _refuse(record, str(exc)) from None
    found = match_signer(session, cfg, record, pdf.p12_identity(signer))
    if isinstance(found, str):
        raise _refuse(record, found)
    current = latest_signed_file(session, record)
    spec = cfg.documents.document[record.kind]
    field = f"Signature_{found.slot.value}"
    if field in pdf.field_names(current):
        raise _refuse(record, f"« {found.slot.label} » a déjà signé ce document")
    width, _height = pdf.last_page_box(current)
    reason = f"{spec.titre}, version {record.version} : signature pour « {found.slot.label} »"
    try:
        signed = pdf.sign(current, signer, field, _field_box(spec, found.slot, width), reason)
    except pdf.SignatureRefused as exc:
        raise _refuse(record, str(exc)) from None
    return deposit(session, cfg, settings, project_id, signed, document=record)


def record_handwritten(
    session: Session,
    cfg: ProcessConfig,
    document_id: int,
    content: bytes,
    witness: str,
    witnessed_on: date,
    today: date,
) -> DocumentRecord:
    """The opérateur's handwritten signature on a CEP or its annex: the scan of the signed page, its hash,
    the agent who witnessed it and the date. Marked handwritten, never a certificate."""
    record = session.get(DocumentRecord, document_id)
    if record is None:
        raise DomainError(f"Document introuvable : identifiant {document_id}.", field="document")
    spec = cfg.documents.document[record.kind]
    if Role.OPERATEUR not in spec.signers:
        raise _refuse(
            record,
            f"seul l'opérateur signe à la main, et « {spec.titre} » n'est pas signé par l'opérateur "
            "(CEP et annexe seulement)",
        )
    _signable(session, record)
    if not witness.strip() or len(witness.strip()) > 200:
        raise _refuse(
            record, "le nom et la qualité de l'agent témoin sont obligatoires (200 caractères au plus)"
        )
    if witnessed_on > today:
        raise _refuse(record, "la date de signature ne peut pas être dans le futur")
    try:
        media = scan.media_type(content)
    except scan.ScanRefused as exc:
        raise _refuse(record, str(exc)) from None
    if any(s.party_role == Role.OPERATEUR for s in _signatures(session, document_id)):
        raise _refuse(record, "l'opérateur a déjà signé ce document")
    stored = storage.store(session, document_id, storage.Purpose.SCAN, content, media)
    signature = SignatureRecord(
        document_id=document_id,
        party_role=Role.OPERATEUR,
        signer_label="Opérateur (signature manuscrite)",
        signed_on=witnessed_on,
    )
    session.add(signature)
    session.flush()
    session.add(
        SignatureEvidence(
            signature_id=signature.id,  # type: ignore[arg-type]
            method=HANDWRITTEN,
            file_id=stored.id,  # type: ignore[arg-type]
            file_sha256=stored.sha256,
            witness_label=witness.strip(),
            witnessed_on=witnessed_on,
            validation=f"numérisation {media}, témoin : {witness.strip()}",
        )
    )
    record.status = _status(spec, _signatures(session, document_id))
    session.add(record)
    session.flush()
    return record


@dataclass(frozen=True)
class Checked:
    """One recorded signature, checked again."""

    record: DocumentRecord
    signature: SignatureRecord
    method: str | None  # None: a « signature déclarée », which nothing can check
    problem: str | None = None

    @property
    def counts(self) -> bool:
        """Verified (certificate) or witnessed (handwritten, opérateur only)."""
        if self.problem is not None or self.method is None:
            return False
        return self.method == CERTIFICATE or self.signature.party_role == Role.OPERATEUR

    @property
    def label(self) -> str:
        return METHOD_LABELS[self.method]


def check_signature(
    session: Session, anchors: TrustAnchors, record: DocumentRecord, signature: SignatureRecord
) -> Checked:
    proof = _evidence(session, signature.id)  # type: ignore[arg-type]
    if proof is None:
        return Checked(record, signature, None)
    row = session.get(DocumentFile, proof.file_id)
    if row is None or row.sha256 != proof.file_sha256 or storage.sha256(row.content) != proof.file_sha256:
        what = "le fichier signé" if proof.method == CERTIFICATE else "la numérisation"
        return Checked(record, signature, proof.method, f"{what} enregistré a été modifié dans la base")
    if proof.method == HANDWRITTEN:
        return Checked(record, signature, proof.method)
    try:
        base = storage.pdf_bytes(session, record)
        checks = pdf.verify(row.content, base, anchors, moment=proof.verified_at, only=proof.field_name)
    except (DomainError, pdf.SignatureRefused) as exc:
        return Checked(record, signature, proof.method, str(exc))
    mine = next((c for c in checks if c.field_name == proof.field_name), None)
    if mine is None or mine.serial != proof.serial:
        return Checked(record, signature, proof.method, "la signature enregistrée n'est plus dans le fichier")
    return Checked(record, signature, proof.method)


def document_checks(session: Session, anchors: TrustAnchors, record: DocumentRecord) -> list[Checked]:
    return [check_signature(session, anchors, record, s) for s in _signatures(session, record.id)]  # type: ignore[arg-type]


def verify_project(session: Session, settings: Settings, project_id: int) -> list[Checked]:
    """Every signature recorded on the project's documents, checked again against the stored bytes."""
    anchors = anchors_for(settings)
    records = session.exec(
        select(DocumentRecord).where(DocumentRecord.project_id == project_id).order_by(col(DocumentRecord.id))
    )
    return [c for record in records for c in document_checks(session, anchors, record)]


def missing_proofs(
    session: Session, cfg: ProcessConfig, settings: Settings, record: DocumentRecord
) -> list[str]:
    """The parties of ``record`` whose signature does not count for the stage-5 gate, with why."""
    spec = cfg.documents.document[record.kind]
    checks = document_checks(session, anchors_for(settings), record)
    problems = []
    for slot in spec.signers:
        given = [c for c in checks if spec.signs_for(c.signature.party_role) == slot]
        if any(c.counts for c in given):
            continue
        label = spec.signer_label(slot)
        if not given:
            how = (
                "signature manuscrite à enregistrer (« siae documents manuscrite »)"
                if slot == Role.OPERATEUR
                else f"« siae documents signer {record.project_id} {record.id} --certificat … » ou dépôt du "
                f"PDF signé (« siae documents deposer {record.project_id} … »)"
            )
            problems.append(f"{label} : pas de signature ({how})")
        elif given[0].problem:
            problems.append(f"{label} : la signature ne se vérifie plus ({given[0].problem})")
        elif given[0].method is None:
            problems.append(
                f"{label} : signature déclarée seulement ; déposez le PDF signé (« siae documents deposer »)"
                " ou signez avec un certificat (« siae documents signer … --certificat »)"
            )
        else:
            problems.append(f"{label} : la signature manuscrite ne vaut que pour l'opérateur")
    return problems
