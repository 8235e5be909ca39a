"""Signatures that count because they verify: PAdES on the stored PDF/A version, signer named by the document,
handwritten scans for the opérateur; anything else refused with its reason and nothing recorded."""

import io
from datetime import UTC, date, datetime, timedelta

import pytest
from pdf_samples import record_pdf
from PIL import Image
from sqlalchemy import update
from sqlmodel import Session, col, select

from implantation.config.schema import ProcessConfig
from implantation.db.journal import verify as verify_journal
from implantation.db.models import DocumentFile, DocumentRecord, SignatureEvidence, SignatureRecord
from implantation.documents.service import generate_pack, record_signature
from implantation.enums import DocumentKind, DocumentStatus, Role
from implantation.services.errors import DomainError
from implantation.settings import Mode, Settings
from implantation.signatures import pdf as pades
from implantation.signatures.authority import DemoAuthority, demo_authority, new_authority
from implantation.signatures.register import (
    deposit,
    missing_proofs,
    record_handwritten,
    sign_with_certificate,
    verify_project,
)

TODAY = date(2026, 2, 20)
# The people the convention's blocks name (tests/documents/conftest.py).
SIAE = ("Hélène Roussel", "Atelier Solidaire Garonne")
DDETS = ("Nadia Lemoine", "DDETS de la Gironde")
DISP = ("Paul Renaud", "DISP de Bordeaux")


def _pack(session: Session, project_id: int, cfg: ProcessConfig, settings: Settings) -> list[DocumentRecord]:
    records = generate_pack(session, project_id, cfg, settings)
    for record in records:
        record_pdf(session, record)
    return records


def _kind(records: list[DocumentRecord], kind: DocumentKind) -> DocumentRecord:
    return next(r for r in records if r.kind == kind)


@pytest.fixture
def authority(settings: Settings) -> DemoAuthority:
    return demo_authority(settings.data_dir)


def _sign(session, cfg, settings, authority, project_id, record, who, **validity):  # type: ignore[no-untyped-def]
    p12 = authority.issue_p12(who[0], who[1], "mot-de-passe", **validity)
    return sign_with_certificate(session, cfg, settings, project_id, record.id, p12, "mot-de-passe")


def _counts(session: Session) -> tuple[int, int]:
    return (
        len(session.exec(select(SignatureRecord)).all()),
        len(session.exec(select(SignatureEvidence)).all()),
    )


def test_parties_sign_in_turn_and_each_earlier_signature_stays_valid(
    session: Session, project_id: int, cfg: ProcessConfig, settings: Settings, authority: DemoAuthority
) -> None:
    convention = _kind(_pack(session, project_id, cfg, settings), DocumentKind.CONVENTION)
    first = _sign(session, cfg, settings, authority, project_id, convention, SIAE)
    assert [m.slot for m, _ in first.recorded] == [Role.SIAE]
    assert convention.status == DocumentStatus.PARTIALLY_SIGNED
    # The DDETS signs for the préfet (recorded delegation), then the DISP: each signs the file so far.
    second = _sign(session, cfg, settings, authority, project_id, convention, DDETS)
    assert [(m.slot, m.role) for m, _ in second.recorded] == [(Role.PREFET, Role.DDETS)]
    assert [c.common_name for c in second.already] == ["Hélène Roussel"]
    _sign(session, cfg, settings, authority, project_id, convention, DISP)
    assert convention.status == DocumentStatus.SIGNED
    assert missing_proofs(session, cfg, settings, convention) == []
    last = session.exec(
        select(DocumentFile)
        .where(DocumentFile.purpose == "pdf_signe")
        .order_by(col(DocumentFile.size).desc())
    ).first()
    assert last is not None
    assert pades.field_names(last.content) == ["Signature_siae", "Signature_prefet", "Signature_disp"]
    checks = verify_project(session, settings, project_id)
    assert [(c.signature.party_role, c.problem) for c in checks] == [
        (Role.SIAE, None),
        (Role.DDETS, None),
        (Role.DISP, None),
    ]
    session.commit()
    with session.connection() as conn:
        assert verify_journal(conn).ok


def test_a_signed_file_deposited_again_records_nothing_twice(
    session: Session, project_id: int, cfg: ProcessConfig, settings: Settings, authority: DemoAuthority
) -> None:
    dui = _kind(_pack(session, project_id, cfg, settings), DocumentKind.DUI)
    _sign(session, cfg, settings, authority, project_id, dui, SIAE)
    signed = session.exec(select(DocumentFile).where(DocumentFile.purpose == "pdf_signe")).one()
    again = deposit(session, cfg, settings, project_id, signed.content)
    assert again.recorded == [] and len(again.already) == 1
    assert _counts(session) == (1, 1)


def test_a_tampered_file_is_refused_and_nothing_is_recorded(
    session: Session, project_id: int, cfg: ProcessConfig, settings: Settings, authority: DemoAuthority
) -> None:
    dui = _kind(_pack(session, project_id, cfg, settings), DocumentKind.DUI)
    p12 = authority.issue_p12(*SIAE, "x")
    base = session.exec(
        select(DocumentFile).where(DocumentFile.document_id == dui.id, DocumentFile.purpose == "pdf")
    ).one()
    signed = pades.sign(base.content, pades.load_p12(p12, "x"), "Signature_siae", (40, 36, 300, 96), "essai")
    # One byte of the signed version changed: the file no longer begins with the stored PDF/A.
    altered = bytearray(signed)
    altered[len(base.content) // 2] ^= 0x01
    with pytest.raises(DomainError, match="pas exactement la version PDF/A"):
        deposit(session, cfg, settings, project_id, bytes(altered), document=dui)
    # A change in the signature's own update: its signed digest no longer matches.
    inside = bytearray(signed)
    inside[len(base.content) + 40] ^= 0x01
    with pytest.raises(DomainError, match="Signature refusée"):
        deposit(session, cfg, settings, project_id, bytes(inside), document=dui)
    assert _counts(session) == (0, 0)


def test_a_signer_who_is_not_the_printed_signatory_is_refused(
    session: Session, project_id: int, cfg: ProcessConfig, settings: Settings, authority: DemoAuthority
) -> None:
    dui = _kind(_pack(session, project_id, cfg, settings), DocumentKind.DUI)
    base = session.exec(
        select(DocumentFile).where(DocumentFile.document_id == dui.id, DocumentFile.purpose == "pdf")
    ).one()
    stranger = pades.load_p12(authority.issue_p12("Marc Intrus", "Atelier Solidaire Garonne", "x"), "x")
    signed = pades.sign(base.content, stranger, "Signature_siae", (40, 36, 300, 96), "essai")
    with pytest.raises(DomainError) as refused:
        deposit(session, cfg, settings, project_id, signed)
    assert "« Marc Intrus »" in str(refused.value) and "Hélène Roussel (SIAE)" in str(refused.value)
    # The right name for another organisation is not the printed signatory either.
    elsewhere = authority.issue_p12("Hélène Roussel", "Autre association", "x")
    with pytest.raises(DomainError, match="Autre association"):
        sign_with_certificate(session, cfg, settings, project_id, dui.id, elsewhere, "x")  # type: ignore[arg-type]
    assert _counts(session) == (0, 0)


def test_an_expired_or_unknown_certificate_is_refused(
    session: Session,
    project_id: int,
    cfg: ProcessConfig,
    settings: Settings,
    authority: DemoAuthority,
    tmp_path,
) -> None:
    dui = _kind(_pack(session, project_id, cfg, settings), DocumentKind.DUI)
    now = datetime.now(UTC)
    with pytest.raises(DomainError, match="le certificat a expiré le"):
        _sign(
            session, cfg, settings, authority, project_id, dui, SIAE,
            not_before=now - timedelta(days=400), not_after=now - timedelta(days=1),
        )  # fmt: skip
    other = new_authority("Autorité inconnue de test")
    with pytest.raises(DomainError, match="pas émis par une autorité reconnue"):
        _sign(session, cfg, settings, other, project_id, dui, SIAE)
    # In production the demonstration authority is trusted no more.
    production = settings.model_copy(update={"mode": Mode.PRODUCTION})
    with pytest.raises(DomainError, match="autorité de DÉMONSTRATION, reconnue seulement en mode"):
        _sign(session, cfg, production, authority, project_id, dui, SIAE)
    assert _counts(session) == (0, 0)


def test_a_wrong_password_is_refused_in_french(
    session: Session, project_id: int, cfg: ProcessConfig, settings: Settings, authority: DemoAuthority
) -> None:
    dui = _kind(_pack(session, project_id, cfg, settings), DocumentKind.DUI)
    p12 = authority.issue_p12(*SIAE, "bon")
    with pytest.raises(DomainError, match="mot de passe incorrect"):
        sign_with_certificate(session, cfg, settings, project_id, dui.id, p12, "mauvais")  # type: ignore[arg-type]


def test_a_byte_changed_in_storage_fails_the_verification_naming_the_document(
    session: Session, project_id: int, cfg: ProcessConfig, settings: Settings, authority: DemoAuthority
) -> None:
    contract = _kind(_pack(session, project_id, cfg, settings), DocumentKind.IMPLANTATION_CONTRACT)
    _sign(session, cfg, settings, authority, project_id, contract, SIAE)
    _sign(
        session,
        cfg,
        settings,
        authority,
        project_id,
        contract,
        ("Claire Martin", "Maison d'arrêt de Bordeaux-Gradignan"),
    )
    assert missing_proofs(session, cfg, settings, contract) == []
    session.commit()
    row = session.exec(select(DocumentFile).where(DocumentFile.purpose == "pdf_signe")).first()
    assert row is not None
    altered = bytearray(row.content)
    altered[-200] ^= 0x01
    session.execute(update(DocumentFile).where(col(DocumentFile.id) == row.id).values(content=bytes(altered)))
    session.commit()
    session.expire_all()
    problems = [c for c in verify_project(session, settings, project_id) if c.problem]
    assert problems and problems[0].record.id == contract.id
    assert "modifié dans la base" in str(problems[0].problem)
    assert any("ne se vérifie plus" in p for p in missing_proofs(session, cfg, settings, contract))


def test_a_declared_signature_is_listed_as_such_and_does_not_count(
    session: Session, project_id: int, cfg: ProcessConfig, settings: Settings, authority: DemoAuthority
) -> None:
    dui = _kind(_pack(session, project_id, cfg, settings), DocumentKind.DUI)
    record_signature(session, dui.id, Role.SIAE, "Hélène Roussel", TODAY, cfg, today=TODAY)  # type: ignore[arg-type]
    (check,) = verify_project(session, settings, project_id)
    assert check.label == "signature déclarée" and check.problem is None and not check.counts
    assert missing_proofs(session, cfg, settings, dui) == [
        "SIAE : signature déclarée seulement ; déposez le PDF signé (« siae documents deposer ») ou signez "
        "avec un certificat (« siae documents signer … --certificat »)"
    ]
    # The same person's signed PDF gives the declared signature the proof it lacked.
    _sign(session, cfg, settings, authority, project_id, dui, SIAE)
    (check,) = verify_project(session, settings, project_id)
    assert check.counts and check.label == "signature électronique vérifiée"
    assert missing_proofs(session, cfg, settings, dui) == []


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("L", (40, 20), color=255).save(out, format="PNG")
    return out.getvalue()


def test_the_operateur_signs_by_hand_witnessed_by_an_agent(
    session: Session, project_id: int, cfg: ProcessConfig, settings: Settings, authority: DemoAuthority,
    new_operateur,
) -> None:  # fmt: skip
    new_operateur(session, project_id)
    records = _pack(session, project_id, cfg, settings)
    cep = _kind(records, DocumentKind.CEP)
    with pytest.raises(DomainError, match="ni un PDF ni une image"):
        record_handwritten(session, cfg, cep.id, b"pas une image", "Agent Dupuis, surveillant", TODAY, TODAY)  # type: ignore[arg-type]
    convention = _kind(records, DocumentKind.CONVENTION)
    with pytest.raises(DomainError, match="Seul l'opérateur signe à la main"):
        record_handwritten(session, cfg, convention.id, _png(), "Agent Dupuis", TODAY, TODAY)  # type: ignore[arg-type]
    record_handwritten(session, cfg, cep.id, _png(), "Agent Dupuis, surveillant", TODAY, TODAY)  # type: ignore[arg-type]
    _sign(session, cfg, settings, authority, project_id, cep, SIAE)
    assert cep.status == DocumentStatus.SIGNED
    assert missing_proofs(session, cfg, settings, cep) == []
    handwritten = next(c for c in verify_project(session, settings, project_id) if c.method == "manuscrite")
    assert handwritten.counts and handwritten.signature.signer_label == "Opérateur (signature manuscrite)"
    proof = session.exec(select(SignatureEvidence).where(SignatureEvidence.method == "manuscrite")).one()
    assert (proof.witness_label, proof.witnessed_on) == ("Agent Dupuis, surveillant", TODAY)
    with pytest.raises(DomainError, match="déjà signé"):
        record_handwritten(session, cfg, cep.id, _png(), "Agent Dupuis", TODAY, TODAY)  # type: ignore[arg-type]


def _with_note(pdf: bytes) -> bytes:
    """``pdf`` plus an incremental update laying a text note over the last page."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    page_ref = writer.find_page_for_modification(-1)[0]
    page = page_ref.get_object()
    note = writer.add_object(
        generic.DictionaryObject(
            {
                generic.NameObject("/Type"): generic.NameObject("/Annot"),
                generic.NameObject("/Subtype"): generic.NameObject("/FreeText"),
                generic.NameObject("/Rect"): generic.ArrayObject(
                    [generic.FloatObject(v) for v in (60, 700, 400, 740)]
                ),
                generic.NameObject("/Contents"): generic.TextStringObject("Montant : 1 euro"),
            }
        )
    )
    annots = page.get("/Annots")
    existing = list(annots.get_object()) if annots is not None else []
    page[generic.NameObject("/Annots")] = generic.ArrayObject([*existing, note])
    writer.update_container(page)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_a_note_laid_over_the_version_is_refused_before_or_after_a_signature(
    session: Session, project_id: int, cfg: ProcessConfig, settings: Settings, authority: DemoAuthority
) -> None:
    dui = _kind(_pack(session, project_id, cfg, settings), DocumentKind.DUI)
    base = session.exec(
        select(DocumentFile).where(DocumentFile.document_id == dui.id, DocumentFile.purpose == "pdf")
    ).one()
    signer = pades.load_p12(authority.issue_p12(*SIAE, "x"), "x")
    noted_then_signed = pades.sign(_with_note(base.content), signer, "Signature_siae", (40, 36, 300, 96), "r")
    signed_then_noted = _with_note(pades.sign(base.content, signer, "Signature_siae", (40, 36, 300, 96), "r"))
    for content in (noted_then_signed, signed_then_noted):
        with pytest.raises(DomainError, match="modifié après sa production"):
            deposit(session, cfg, settings, project_id, content)
    assert _counts(session) == (0, 0)
