"""State changes of a project and its stages, on both backends, with their log in the same transaction."""

from datetime import date
from pathlib import Path

import factories
import pytest
from factories import decide
from sqlmodel import Session, col, select

from implantation.config.schema import ProcessConfig
from implantation.db.models import CandidateSiae, ImplantationProject, Siae, StageRecord, TransitionLog
from implantation.enums import Decision, ProjectStatus, Role, SiaeKind, StageStatus
from implantation.services import workflow
from implantation.services.decisions import DecisionRequest
from implantation.services.errors import DomainError
from implantation.settings import Settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


def stages(session: Session, project: ImplantationProject) -> dict[int, StageRecord]:
    rows = session.exec(select(StageRecord).where(StageRecord.project_id == project.id)).all()
    return {r.stage: r for r in rows}


def logs(session: Session, project: ImplantationProject) -> list[TransitionLog]:
    query = (
        select(TransitionLog).where(TransitionLog.project_id == project.id).order_by(col(TransitionLog.id))
    )
    return list(session.exec(query))


def test_create_project_opens_stage_one_with_a_due_date_on_a_worked_day(
    session: Session, cfg: ProcessConfig
) -> None:
    project, lead = factories.project(session, cfg, started_on=date(2026, 10, 1))
    session.commit()
    assert project.reference == "IMP-2026-0001"
    assert project.status == ProjectStatus.IN_PROGRESS and project.current_stage == 1
    records = stages(session, project)
    assert sorted(records) == [1, 2, 3, 4, 5, 6]
    assert records[1].status == StageStatus.OPEN and records[1].attempt == 1
    # 1 October + 3 months is 1 January 2027, a public holiday: the due date moves to Monday 4 January.
    assert records[1].due_on == date(2027, 1, 4)
    assert all(records[n].status == StageStatus.PENDING for n in range(2, 7))
    assert [(r.transition, r.to_state, r.actor_id) for r in logs(session, project)] == [
        ("creer", "en_cours", lead.id),
        ("ouvrir", "en_cours", lead.id),
    ]


def test_references_carry_the_start_year_and_the_project_id(session: Session, cfg: ProcessConfig) -> None:
    project, lead = factories.project(session, cfg)
    assert project.establishment_id is not None and lead.id is not None
    second = workflow.create_project(
        session, cfg, project.establishment_id, lead.id, date(2026, 11, 2), workflow.SYSTEM
    )
    third = workflow.create_project(
        session, cfg, project.establishment_id, lead.id, date(2027, 1, 4), workflow.SYSTEM
    )
    assert second.reference == f"IMP-2026-{second.id:04d}"
    assert third.reference == f"IMP-2027-{third.id:04d}"
    assert len({project.reference, second.reference, third.reference}) == 3


def test_create_refuses_unknown_establishment_and_non_disp_lead(session: Session, cfg: ProcessConfig) -> None:
    site = factories.establishment(session, cfg)
    spip = factories.person(session, cfg, Role.SPIP, "38")
    assert site.id is not None and spip.id is not None
    with pytest.raises(DomainError) as unknown:
        workflow.create_project(session, cfg, 999, spip.id, date(2026, 10, 1), workflow.SYSTEM)
    assert unknown.value.field == "etablissement"
    with pytest.raises(DomainError) as not_disp:
        workflow.create_project(session, cfg, site.id, spip.id, date(2026, 10, 1), workflow.SYSTEM)
    assert not_disp.value.field == "chef_de_projet" and "DISP" in str(not_disp.value)


def test_approve_closes_the_stage_and_opens_the_next(session: Session, cfg: ProcessConfig) -> None:
    project, lead = factories.project(session, cfg)
    assert project.id is not None and lead.id is not None
    factories.stage_work(session, cfg, project.id, 1)
    outcome = decide(
        session, cfg, project.id, DecisionRequest(1, Decision.APPROVE, lead.id), date(2026, 12, 10)
    )
    session.commit()
    assert outcome.accepted and not outcome.problems
    records = stages(session, project)
    assert records[1].status == StageStatus.VALIDATED and records[1].closed_on == date(2026, 12, 10)
    assert records[2].status == StageStatus.OPEN and records[2].opened_on == date(2026, 12, 10)
    assert records[2].due_on == date(2027, 2, 10)
    assert project.current_stage == 2
    assert [r.transition for r in logs(session, project)][-2:] == ["approuver", "ouvrir"]


def test_refused_role_is_logged_as_not_accepted_and_changes_nothing(
    session: Session, cfg: ProcessConfig
) -> None:
    project, _ = factories.project(session, cfg)
    spip = factories.person(session, cfg, Role.SPIP, "38")
    assert project.id is not None and spip.id is not None
    outcome = decide(
        session, cfg, project.id, DecisionRequest(1, Decision.APPROVE, spip.id), date(2026, 12, 10)
    )
    session.commit()
    assert not outcome.accepted
    assert "SPIP" in outcome.problems[0] and "cette décision revient à" in outcome.problems[0]
    assert stages(session, project)[1].status == StageStatus.OPEN
    refusal = logs(session, project)[-1]
    assert (refusal.transition, refusal.accepted, refusal.actor_id, refusal.actor_role) == (
        "refus_approuver",
        False,
        spip.id,
        "spip",
    )
    assert refusal.reason and "SPIP" in refusal.reason


def test_disp_of_another_territory_is_refused(session: Session, cfg: ProcessConfig) -> None:
    project, _ = factories.project(session, cfg)
    paris = factories.person(session, cfg, Role.DISP, "PARIS")
    assert project.id is not None and paris.id is not None
    outcome = decide(
        session, cfg, project.id, DecisionRequest(1, Decision.APPROVE, paris.id), date(2026, 12, 10)
    )
    assert not outcome.accepted and "territoire attendu : LYON" in outcome.problems[0]


def test_reject_needs_a_reason_and_keeps_the_stage_open(session: Session, cfg: ProcessConfig) -> None:
    project, lead = factories.project(session, cfg)
    assert project.id is not None and lead.id is not None
    silent = decide(
        session, cfg, project.id, DecisionRequest(1, Decision.REJECT, lead.id, "  "), date(2026, 12, 1)
    )
    assert not silent.accepted and any("motif est obligatoire" in p for p in silent.problems)
    reasoned = decide(
        session,
        cfg,
        project.id,
        DecisionRequest(1, Decision.REJECT, lead.id, "Locaux non identifiés"),
        date(2026, 12, 1),
    )
    session.commit()
    assert reasoned.accepted
    assert stages(session, project)[1].status == StageStatus.OPEN
    last = logs(session, project)[-1]
    assert (last.transition, last.reason, last.accepted) == ("rejeter", "Locaux non identifiés", True)


def test_send_back_reopens_the_earlier_stage_with_its_reason(session: Session, cfg: ProcessConfig) -> None:
    project, lead = factories.project(session, cfg)
    ddets = factories.person(session, cfg, Role.DDETS, "38")
    assert project.id is not None and lead.id is not None and ddets.id is not None
    factories.stage_work(session, cfg, project.id, 1)
    decide(session, cfg, project.id, DecisionRequest(1, Decision.APPROVE, lead.id), date(2026, 12, 10))
    no_target = DecisionRequest(2, Decision.SEND_BACK, ddets.id, "Pas de local")
    assert not decide(session, cfg, project.id, no_target, date(2027, 1, 5)).accepted
    request = DecisionRequest(
        2, Decision.SEND_BACK, ddets.id, "Le local prévu n'est plus disponible", target_stage=1
    )
    assert decide(session, cfg, project.id, request, date(2027, 1, 5)).accepted
    session.commit()
    records = stages(session, project)
    assert records[2].status == StageStatus.PENDING
    assert records[1].status == StageStatus.OPEN and records[1].attempt == 2
    assert records[1].opened_on == date(2027, 1, 5) and records[1].closed_on is None
    assert project.current_stage == 1
    moves = [(r.stage, r.transition, r.reason) for r in logs(session, project)][-2:]
    assert moves == [
        (2, "renvoyer", "Le local prévu n'est plus disponible"),
        (1, "rouvrir", "Le local prévu n'est plus disponible"),
    ]
    assert workflow.last_reopen_reason(session, project.id, 1) == "Le local prévu n'est plus disponible"
    assert workflow.last_reopen_reason(session, project.id, 2) is None


def test_replaying_an_idempotency_key_changes_nothing(session: Session, cfg: ProcessConfig) -> None:
    project, lead = factories.project(session, cfg)
    assert project.id is not None and lead.id is not None
    factories.stage_work(session, cfg, project.id, 1)
    request = DecisionRequest(1, Decision.APPROVE, lead.id, key="formulaire-42")
    first = decide(session, cfg, project.id, request, date(2026, 12, 10))
    session.commit()
    before = len(logs(session, project))
    again = decide(session, cfg, project.id, request, date(2026, 12, 11))
    session.commit()
    assert first.accepted and not first.replayed
    assert again.accepted and again.replayed
    assert len(logs(session, project)) == before
    assert stages(session, project)[2].opened_on == date(2026, 12, 10)


def test_replayed_refusal_returns_the_same_problems(session: Session, cfg: ProcessConfig) -> None:
    project, _ = factories.project(session, cfg)
    spip = factories.person(session, cfg, Role.SPIP, "38")
    assert project.id is not None and spip.id is not None
    request = DecisionRequest(1, Decision.APPROVE, spip.id, key="refus-1")
    first = decide(session, cfg, project.id, request, date(2026, 12, 10))
    again = decide(session, cfg, project.id, request, date(2026, 12, 10))
    assert not again.accepted and again.replayed and again.problems == first.problems


def test_state_change_and_log_share_one_transaction(session: Session, cfg: ProcessConfig) -> None:
    project, lead = factories.project(session, cfg)
    session.commit()
    assert project.id is not None and lead.id is not None
    count = len(logs(session, project))
    decide(session, cfg, project.id, DecisionRequest(1, Decision.APPROVE, lead.id), date(2026, 12, 10))
    session.rollback()
    session.expire_all()
    assert stages(session, project)[1].status == StageStatus.OPEN
    assert len(logs(session, project)) == count


def test_abandon_needs_a_reason_and_cancels_open_stages(session: Session, cfg: ProcessConfig) -> None:
    project, lead = factories.project(session, cfg)
    actor = workflow.Actor.of(lead)
    with pytest.raises(DomainError) as no_reason:
        workflow.abandon(session, project, " ", actor)
    assert no_reason.value.field == "motif"
    workflow.abandon(session, project, "L'établissement ferme le quartier", actor)
    session.commit()
    assert project.status == ProjectStatus.ABANDONED
    assert {r.status for r in stages(session, project).values()} == {StageStatus.CANCELLED}
    last = logs(session, project)[-1]
    assert (last.transition, last.to_state, last.reason) == (
        "abandonner",
        "abandonne",
        "L'établissement ferme le quartier",
    )
    with pytest.raises(DomainError):
        workflow.abandon(session, project, "encore", actor)
    assert project.id is not None and lead.id is not None
    late = decide(session, cfg, project.id, DecisionRequest(1, Decision.APPROVE, lead.id), date(2027, 1, 5))
    assert not late.accepted and any("Abandonné" in p for p in late.problems)


def _etti(session: Session) -> Siae:
    """An ETTI cannot come through the referential; one inherited from elsewhere must still be refused."""
    row = Siae(
        siret=factories.SIRET_C,
        name="Intérim Exemple",
        kind=SiaeKind.ETTI,
        address="2 rue",
        postal_code="38000",
        city="Grenoble",
    )
    session.add(row)
    session.flush()
    return row


def test_stage_two_selection_refuses_a_non_implantable_kind(session: Session, cfg: ProcessConfig) -> None:
    project, lead = factories.project(session, cfg)
    dreets = factories.person(session, cfg, Role.DREETS, "84")
    etti = _etti(session)
    assert project.id is not None and lead.id is not None and dreets.id is not None and etti.id is not None
    decide(session, cfg, project.id, DecisionRequest(1, Decision.APPROVE, lead.id), date(2026, 12, 10))
    request = DecisionRequest(
        2, Decision.APPROVE, dreets.id, candidate_siae_ids=[etti.id], selected_siae_id=etti.id, activity="Tri"
    )
    outcome = decide(session, cfg, project.id, request, date(2027, 1, 20))
    assert not outcome.accepted and any(
        "ETTI" in p and "ne peut pas s'implanter" in p for p in outcome.problems
    )


def test_full_path_to_launch_with_a_launch_date_check(
    session: Session, demo_cfg: ProcessConfig, settings: Settings
) -> None:
    cfg = demo_cfg  # documents and budgets dated 2027-2028: the demonstration amounts
    project, lead = factories.project(session, cfg)
    remise = factories.siae(session, cfg, **factories.SIAE_IDENTITY)
    other = factories.siae(session, cfg, siret=factories.SIRET_B, nom="Autre ACI")
    dreets = factories.person(session, cfg, Role.DREETS, "84")
    ep = factories.person(session, cfg, Role.EP, "38")
    spip = factories.person(session, cfg, Role.SPIP, "38")
    siae_person = factories.person(
        session, cfg, Role.SIAE, "38", siae=factories.SIRET_A, email="siae@example.org"
    )
    ids = [project.id, lead.id, remise.id, other.id, dreets.id, ep.id, spip.id, siae_person.id]
    assert all(i is not None for i in ids)
    pid = project.id
    assert pid is not None

    def ok(request: DecisionRequest, day: date) -> None:
        factories.stage_work(session, cfg, pid, request.stage)
        outcome = decide(session, cfg, pid, request, day)
        assert outcome.accepted, outcome.problems

    ok(DecisionRequest(1, Decision.APPROVE, lead.id), date(2026, 12, 10))  # type: ignore[arg-type]
    selection = DecisionRequest(
        2,
        Decision.APPROVE,
        dreets.id,  # type: ignore[arg-type]
        candidate_siae_ids=[remise.id, other.id],  # type: ignore[list-item]
        selected_siae_id=remise.id,
        activity="Tri de textiles",
    )
    ok(selection, date(2027, 2, 1))
    assert project.siae_id == remise.id and project.activity == "Tri de textiles"
    assert len(session.exec(select(CandidateSiae).where(CandidateSiae.project_id == pid)).all()) == 2
    ok(DecisionRequest(3, Decision.APPROVE, siae_person.id), date(2027, 3, 15))  # type: ignore[arg-type]
    ok(DecisionRequest(4, Decision.APPROVE, spip.id), date(2027, 5, 3))  # type: ignore[arg-type]
    factories.complete_for_documents(session, cfg, project, date(2027, 9, 13), operateurs=0)
    factories.signed_contract_documents(session, cfg, pid, settings, date(2027, 6, 14))
    ok(DecisionRequest(5, Decision.APPROVE, dreets.id), date(2027, 6, 15))  # type: ignore[arg-type]
    summer = DecisionRequest(6, Decision.APPROVE, ep.id, launch_date=date(2027, 8, 2))  # type: ignore[arg-type]
    refused = decide(session, cfg, pid, summer, date(2027, 7, 20))
    assert not refused.accepted and any("juillet-août" in p for p in refused.problems)
    checklist = {"locaux_amenages", "interlocuteurs_nommes", "protocole_sortie"}
    factories.stage_work(session, cfg, pid, 6)
    partial = DecisionRequest(
        6, Decision.APPROVE, ep.id, launch_date=date(2027, 9, 13), confirmed={"locaux_amenages"}
    )  # type: ignore[arg-type]
    refused = decide(session, cfg, pid, partial, date(2027, 9, 1))
    assert refused.problems == [
        "liste de lancement incomplète, non confirmé : interlocuteurs nommés, "
        "protocole de préparation à la sortie (lien dedans-dehors)"
    ]
    ok(
        DecisionRequest(6, Decision.APPROVE, ep.id, launch_date=date(2027, 9, 13), confirmed=checklist),
        date(2027, 9, 1),
    )  # type: ignore[arg-type]
    session.commit()
    assert project.status == ProjectStatus.LAUNCHED and project.launch_date == date(2027, 9, 13)
    assert {r.status for r in stages(session, project).values()} == {StageStatus.VALIDATED}
