"""Versions, resumption without duplicates, and the signature state per the matrix."""

import threading
from datetime import date
from typing import Any

import pytest
from sqlalchemy import event
from sqlmodel import Session, select

from implantation.config.schema import ProcessConfig
from implantation.db.models import DocumentRecord, ImplantationProject, Person
from implantation.documents.render import file_sha256
from implantation.documents.service import document_states, generate_pack, project_dir, record_signature
from implantation.enums import DocumentKind, DocumentStatus, Role
from implantation.services.errors import DomainError
from implantation.settings import Settings

TODAY = date(2026, 2, 20)


def _by_kind(records: list[DocumentRecord], kind: DocumentKind) -> DocumentRecord:
    return next(r for r in records if r.kind == kind)


def test_identical_regeneration_reuses_the_draft_and_changed_data_makes_a_new_version(
    session: Session, project_id: int, cfg: ProcessConfig, settings: Settings
) -> None:
    first = generate_pack(session, project_id, cfg, settings)
    again = generate_pack(session, project_id, cfg, settings)
    assert [r.id for r in again] == [r.id for r in first]
    assert len(session.exec(select(DocumentRecord)).all()) == 3

    project = session.get(ImplantationProject, project_id)
    assert project is not None
    project.activity = "Menuiserie et reconditionnement"
    session.add(project)
    changed = generate_pack(session, project_id, cfg, settings)
    assert [r.version for r in changed] == [2, 2, 2]
    assert _by_kind(changed, DocumentKind.CONVENTION).filename == "convention_IMP-2026-0001_v2.docx"
    folder = project_dir(settings, "IMP-2026-0001")
    assert (folder / "convention_IMP-2026-0001_v1.docx").exists()

    forced = generate_pack(session, project_id, cfg, settings, reuse_identical=False)
    assert [r.version for r in forced] == [3, 3, 3]


def test_a_signed_version_stands_while_its_data_is_unchanged_and_is_never_overwritten(
    session: Session, project_id: int, cfg: ProcessConfig, settings: Settings
) -> None:
    records = generate_pack(session, project_id, cfg, settings)
    contract = _by_kind(records, DocumentKind.IMPLANTATION_CONTRACT)
    folder = project_dir(settings, "IMP-2026-0001")
    signed_hash = file_sha256(folder / contract.filename)
    record_signature(session, contract.id, Role.SIAE, "Hélène Roussel", TODAY, cfg, today=TODAY)  # type: ignore[arg-type]
    record_signature(session, contract.id, Role.EP, "Claire Martin", TODAY, cfg, today=TODAY)  # type: ignore[arg-type]
    assert contract.status == DocumentStatus.SIGNED

    # Same data (the stage-5 gate asks again after a refused answer): the signed version stands.
    again = _by_kind(generate_pack(session, project_id, cfg, settings), DocumentKind.IMPLANTATION_CONTRACT)
    assert (again.id, again.status) == (contract.id, DocumentStatus.SIGNED)
    assert len(session.exec(select(DocumentRecord)).all()) == 3

    project = session.get(ImplantationProject, project_id)
    assert project is not None
    project.activity = "Menuiserie et reconditionnement"
    session.add(project)
    regenerated = _by_kind(
        generate_pack(session, project_id, cfg, settings), DocumentKind.IMPLANTATION_CONTRACT
    )
    assert regenerated.id != contract.id and regenerated.version == 2
    assert regenerated.status == DocumentStatus.DRAFT
    assert file_sha256(folder / contract.filename) == signed_hash
    assert session.get(DocumentRecord, contract.id).status == DocumentStatus.SIGNED  # type: ignore[union-attr]


def test_partial_then_signed_only_when_every_signer_of_the_matrix_signed(
    session: Session, project_id: int, cfg: ProcessConfig, settings: Settings
) -> None:
    convention = _by_kind(generate_pack(session, project_id, cfg, settings), DocumentKind.CONVENTION)
    doc_id = convention.id
    assert doc_id is not None
    names = {Role.PREFET: "Étienne Guyot, préfet de la Gironde", Role.SIAE: "Hélène Roussel, présidente"}
    for role, name in names.items():
        record = record_signature(session, doc_id, role, name, TODAY, cfg, today=TODAY)
        assert record.status == DocumentStatus.PARTIALLY_SIGNED
    state = next(s for s in document_states(session, project_id, cfg) if s.record.id == doc_id)
    assert state.status == DocumentStatus.PARTIALLY_SIGNED
    assert state.missing == [Role.DISP]
    record = record_signature(session, doc_id, Role.DISP, "Paul Renaud", TODAY, cfg, today=TODAY)
    assert record.status == DocumentStatus.SIGNED
    state = next(s for s in document_states(session, project_id, cfg) if s.record.id == doc_id)
    assert state.status == DocumentStatus.SIGNED and state.missing == []
    assert [p.signer_label for p in state.parties] == [
        "Étienne Guyot, préfet de la Gironde",
        "Hélène Roussel, présidente",
        "Paul Renaud",
    ]


def test_the_ddets_signs_the_convention_for_the_prefet_once(
    session: Session, project_id: int, cfg: ProcessConfig, settings: Settings
) -> None:
    convention = _by_kind(generate_pack(session, project_id, cfg, settings), DocumentKind.CONVENTION)
    doc_id = convention.id
    assert doc_id is not None
    record_signature(session, doc_id, Role.DDETS, "Nadia Lemoine", TODAY, cfg, today=TODAY)
    with pytest.raises(DomainError, match="a déjà signé ce document pour « Préfet »"):
        record_signature(session, doc_id, Role.PREFET, "Étienne Guyot", TODAY, cfg, today=TODAY)
    record_signature(session, doc_id, Role.SIAE, "Hélène Roussel", TODAY, cfg, today=TODAY)
    record = record_signature(session, doc_id, Role.DISP, "Paul Renaud", TODAY, cfg, today=TODAY)
    assert record.status == DocumentStatus.SIGNED
    state = next(s for s in document_states(session, project_id, cfg) if s.record.id == doc_id)
    assert state.missing == []
    assert [(p.role, p.signed_by, p.signer_label) for p in state.parties] == [
        (Role.PREFET, Role.DDETS, "Nadia Lemoine"),
        (Role.SIAE, None, "Hélène Roussel"),
        (Role.DISP, None, "Paul Renaud"),
    ]


def test_the_register_accepts_the_person_printed_or_a_recorded_delegate_only(
    session: Session, project_id: int, cfg: ProcessConfig, settings: Settings
) -> None:
    """The SIAE's director may not sign where the documents name its president, nor another agent where
    the contract names the chef d'établissement, unless a delegation (act and date) is recorded."""
    records = generate_pack(session, project_id, cfg, settings)
    dui = _by_kind(records, DocumentKind.DUI)
    contract = _by_kind(records, DocumentKind.IMPLANTATION_CONTRACT)
    convention = _by_kind(records, DocumentKind.CONVENTION)
    assert dui.id and contract.id and convention.id
    with pytest.raises(DomainError) as refused:
        record_signature(session, dui.id, Role.SIAE, "Marc Olivier, directeur", TODAY, cfg, today=TODAY)
    assert str(refused.value).startswith(
        "« Marc Olivier » ne peut pas signer pour « SIAE » : le document nomme Hélène Roussel ; peuvent "
        "signer : Hélène Roussel (présidente)."
    )
    with pytest.raises(DomainError, match="le document nomme Claire Martin"):
        record_signature(session, contract.id, Role.EP, "Jean Adjoint", TODAY, cfg, today=TODAY)
    with pytest.raises(
        DomainError, match="peuvent signer : Nadia Lemoine"
    ):  # a DDETS agent without delegation
        record_signature(session, convention.id, Role.DDETS, "Étienne Guyot", TODAY, cfg, today=TODAY)
    project = session.get(ImplantationProject, project_id)
    assert project is not None
    session.add(
        Person(
            full_name="Marc Olivier",
            email="marc.olivier@asg.example.org",
            organisation="Atelier Solidaire Garonne",
            role=Role.SIAE,
            territory="33",
            siae_id=project.siae_id,
            office="directeur",
            signatory=True,
            delegation_act="délibération du conseil d'administration",
            delegation_date=date(2026, 1, 10),
        )
    )
    session.flush()
    signed = record_signature(session, dui.id, Role.SIAE, "marc  OLIVIER, directeur", TODAY, cfg, today=TODAY)
    assert signed.status == DocumentStatus.SIGNED


def test_a_party_outside_the_matrix_cannot_sign(
    session: Session, project_id: int, cfg: ProcessConfig, settings: Settings
) -> None:
    convention = _by_kind(generate_pack(session, project_id, cfg, settings), DocumentKind.CONVENTION)
    assert convention.id is not None
    with pytest.raises(DomainError, match="ne signe pas le document"):
        record_signature(session, convention.id, Role.EP, "Directeur", TODAY, cfg, today=TODAY)


def test_signature_refusals(
    session: Session, project_id: int, cfg: ProcessConfig, settings: Settings
) -> None:
    records = generate_pack(session, project_id, cfg, settings)
    dui = _by_kind(records, DocumentKind.DUI)
    assert dui.id is not None
    with pytest.raises(DomainError, match="ne signe pas le document"):
        record_signature(session, dui.id, Role.DDETS, "X", TODAY, cfg, today=TODAY)
    with pytest.raises(DomainError, match="futur"):
        record_signature(session, dui.id, Role.SIAE, "X", date(2026, 2, 21), cfg, today=TODAY)
    with pytest.raises(DomainError, match="obligatoire"):
        record_signature(session, dui.id, Role.SIAE, "  ", TODAY, cfg, today=TODAY)
    with pytest.raises(DomainError, match="dépassent 200 caractères"):
        record_signature(session, dui.id, Role.SIAE, "Hélène Roussel, " + "x" * 190, TODAY, cfg, today=TODAY)
    with pytest.raises(DomainError, match="introuvable"):
        record_signature(session, 9999, Role.SIAE, "X", TODAY, cfg, today=TODAY)
    with pytest.raises(DomainError, match="« X » ne peut pas signer pour « SIAE »"):
        record_signature(session, dui.id, Role.SIAE, "X", TODAY, cfg, today=TODAY)
    record_signature(session, dui.id, Role.SIAE, "Hélène Roussel", TODAY, cfg, today=TODAY)
    assert dui.status == DocumentStatus.SIGNED
    with pytest.raises(DomainError, match="a déjà signé"):
        record_signature(session, dui.id, Role.SIAE, "Hélène Roussel", TODAY, cfg, today=TODAY)

    convention = _by_kind(records, DocumentKind.CONVENTION)
    generate_pack(session, project_id, cfg, settings, reuse_identical=False)
    with pytest.raises(DomainError, match="remplacée par la version 2"):
        record_signature(session, convention.id, Role.SIAE, "Hélène Roussel", TODAY, cfg, today=TODAY)  # type: ignore[arg-type]
    states = document_states(session, project_id, cfg)
    assert [
        (s.record.kind, s.record.version, s.latest)
        for s in states
        if s.record.kind == DocumentKind.CONVENTION
    ] == [
        (DocumentKind.CONVENTION, 1, False),
        (DocumentKind.CONVENTION, 2, True),
    ]


def test_two_generations_at_once_never_leave_a_file_that_does_not_match_its_row(
    session: Session, project_id: int, cfg: ProcessConfig, settings: Settings
) -> None:
    """The second generation runs on its own connection until its first write, then the first commits:
    without a lock taken before counting versions, the second had already written its bytes over the first's
    file (same version number)."""
    session.commit()
    first = generate_pack(session, project_id, cfg, settings)
    engine = session.get_bind()
    writing = threading.Event()
    failure: list[BaseException] = []
    worker: list[threading.Thread] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if threading.current_thread() in worker and statement.lstrip().upper().startswith(
            ("UPDATE", "INSERT")
        ):
            writing.set()

    def second() -> None:
        try:
            with Session(engine) as other, other.no_autoflush:
                project = other.get(ImplantationProject, project_id)
                assert project is not None
                project.activity = "Menuiserie et reconditionnement"  # other bytes than the first's
                other.add(project)
                generate_pack(other, project_id, cfg, settings)
                other.commit()
        except BaseException as exc:  # reported below
            failure.append(exc)
        finally:
            writing.set()

    event.listen(engine, "before_cursor_execute", before)
    try:
        worker.append(threading.Thread(target=second))
        worker[0].start()
        assert writing.wait(60)
        session.commit()
        worker[0].join(60)
    finally:
        event.remove(engine, "before_cursor_execute", before)
    assert not failure, failure
    folder = project_dir(settings, "IMP-2026-0001")
    rows = session.exec(select(DocumentRecord)).all()
    assert sorted(r.version for r in rows) == [1, 1, 1, 2, 2, 2]
    for record in rows:
        assert file_sha256(folder / record.filename) == record.sha256, record.filename
    assert {r.id for r in first} <= {r.id for r in rows}
    assert not [p.name for p in folder.iterdir() if p.name.startswith(".")]
