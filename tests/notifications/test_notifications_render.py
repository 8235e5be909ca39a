"""Every mail renders in French from contexts built on a real project, and refuses detainee data."""

from datetime import UTC, date, datetime

import pytest
from mailsink import World, make_world
from sqlmodel import Session

from implantation.config.schema import ProcessConfig
from implantation.db.models import Operateur
from implantation.enums import Decision, LegalStatus, Role
from implantation.notifications.context import (
    approval_request_context,
    decision_context,
    drafts_context,
    escalation_context,
    flow_run_url,
    launch_context,
    reminder_context,
    stage_opened_context,
)
from implantation.notifications.mailer import MailError, MailKind, render_mail


def test_flow_run_link() -> None:
    assert flow_run_url("http://prefect:4200/", "1234-abcd") == "http://prefect:4200/runs/flow-run/1234-abcd"
    assert flow_run_url("http://prefect:4200", None) is None


def test_every_kind_renders(session: Session, cfg: ProcessConfig, world: World) -> None:
    project = world.project(session)
    today = date(2026, 3, 30)
    contexts = {
        MailKind.STAGE_OPENED: stage_opened_context(
            session, cfg, project, 1, pilots=[world.person(session, "lead")]
        ),
        MailKind.APPROVAL_REQUEST: approval_request_context(
            session, cfg, project, 1, lien_decision="http://127.0.0.1:4200/runs/flow-run/abc"
        ),
        MailKind.REMINDER: reminder_context(session, cfg, project, 1, today),
        MailKind.ESCALATION: escalation_context(session, cfg, project, 1, date(2026, 4, 15), 1),
        MailKind.DECISION: decision_context(
            session,
            cfg,
            project,
            1,
            decision=Decision.APPROVE,
            author="Personne lead",
            decided_at=datetime(2026, 4, 1, 8, 0, tzinfo=UTC),
        ),
        MailKind.DRAFTS: drafts_context(session, cfg, project, ["Convention IAE", "Contrat d'implantation"]),
        MailKind.LAUNCH: launch_context(session, cfg, project),
    }
    expected = {
        MailKind.STAGE_OPENED: ("Ouverture de l'étape 1", "Personne lead (Direction interrégionale"),
        MailKind.APPROVAL_REQUEST: (
            "Décision attendue – étape 1",
            "Pour enregistrer votre décision : http://127.0.0.1:4200/runs/flow-run/abc",
        ),
        MailKind.REMINDER: ("Rappel – échéance de l'étape 1 le 7 avril 2026", "dans 8 jours"),
        MailKind.ESCALATION: ("Relance n° 2 – étape 1 en retard de 8 jours", "tous les 7 jours"),
        MailKind.DECISION: (
            "Étape 1 approuvée",
            "par Personne lead, le 1er avril 2026 à 10:00.\n\nL'étape 2 « Réaliser le sourcing des SIAE » est désormais ouverte.",
        ),
        MailKind.DRAFTS: ("Projets de documents à compléter et signer", "- Contrat d'implantation"),
        MailKind.LAUNCH: ("Lancement de l'activité le date non fixée", "Pendant les six premiers mois"),
    }
    for kind, context in contexts.items():
        subject, body = render_mail(kind, context)
        assert subject.startswith(f"[SIAE en détention] {project.reference} – {expected[kind][0]}"), subject
        assert expected[kind][1] in body, body
        assert body.startswith("Bonjour,\n\n")
        assert "\n\n\n" not in body
        assert "None" not in body


def test_decisions_with_reason(session: Session, cfg: ProcessConfig, world: World) -> None:
    project = world.project(session)
    when = datetime(2026, 4, 1, 8, 0, tzinfo=UTC)
    subject, body = render_mail(
        MailKind.DECISION,
        decision_context(
            session,
            cfg,
            project,
            1,
            decision=Decision.REJECT,
            author="X",
            decided_at=when,
            reason="Locaux trop petits",
        ),
    )
    assert "Étape 1 rejetée" in subject
    assert "Motif : Locaux trop petits" in body
    assert "L'étape reste en cours" in body
    subject, body = render_mail(
        MailKind.DECISION,
        decision_context(
            session,
            cfg,
            project,
            3,
            decision=Decision.SEND_BACK,
            author="X",
            decided_at=when,
            reason="SIAE retirée",
            target_stage=2,
        ),
    )
    assert subject.endswith("Étape 3 renvoyée à l'étape 2")
    assert "renvoyée à l'étape 2 « Réaliser le sourcing des SIAE »" in body
    assert "Motif : SIAE retirée" in body


def test_data_are_printed_verbatim_not_evaluated(session: Session, cfg: ProcessConfig) -> None:
    hostile = 'MA Dupont & Fils <Atelier> "{{ 7*7 }}"'
    world = make_world(session, cfg, establishment_name=hostile)
    _, body = render_mail(MailKind.LAUNCH, launch_context(session, cfg, world.project(session)))
    assert f"« {hostile} »" in body


def test_missing_data_is_a_french_error(session: Session, cfg: ProcessConfig, world: World) -> None:
    context = approval_request_context(session, cfg, world.project(session), 1, lien_decision="http://x")
    del context["lien_decision"]
    with pytest.raises(MailError, match="Courriel « Demande de décision » : donnée manquante"):
        render_mail(MailKind.APPROVAL_REQUEST, context)


def test_detainee_data_never_reach_a_mail(session: Session, cfg: ProcessConfig, world: World) -> None:
    context = launch_context(session, cfg, world.project(session))
    with pytest.raises(MailError, match=r"« numero_ecrou » .* donnée personnelle"):
        render_mail(MailKind.LAUNCH, {**context, "extra": [{"numero_ecrou": "123456"}]})
    operateur = Operateur(project_id=world.project_id, legal_status=LegalStatus.CONVICTED, quantum_months=12)
    with pytest.raises(MailError, match="données d'un opérateur"):
        render_mail(MailKind.LAUNCH, {**context, "operateurs": [operateur]})


def test_a_send_back_mail_names_the_stage_its_decision_reopened(session: Session, cfg: ProcessConfig) -> None:
    """Not the project's current stage: by the time the e-mail goes (a replay), the project may have moved."""
    import factories
    from sqlmodel import select

    from implantation.db.models import TransitionLog
    from implantation.notifications.context import logged_decision_context
    from implantation.services.decisions import DecisionRequest

    project, lead = factories.project(session, cfg)
    assert project.id is not None and lead.id is not None
    day = date(2026, 10, 2)
    for stage in (1, 2):
        approve = DecisionRequest(stage, Decision.APPROVE, lead.id if stage == 1 else 0, key=f"a{stage}")
        if stage == 2:
            ddets = factories.person(session, cfg, Role.DDETS, "38")
            assert ddets.id is not None
            approve.approver_id = ddets.id
            approve.candidate_siae_ids = [factories.siae(session, cfg).id]  # type: ignore[list-item]
            approve.selected_siae_id = approve.candidate_siae_ids[0]
            approve.activity = "Tri de textiles"
        assert factories.decide(session, cfg, project.id, approve, day).accepted
    spip = factories.person(session, cfg, Role.SPIP, "38")
    assert spip.id is not None
    back = DecisionRequest(3, Decision.SEND_BACK, spip.id, reason="SIAE retirée", target_stage=1, key="back")
    assert factories.decide(session, cfg, project.id, back, day).accepted
    # Since then stage 1 was approved again: the project now stands at stage 2.
    again = DecisionRequest(1, Decision.APPROVE, lead.id, key="a1-bis")
    assert factories.decide(session, cfg, project.id, again, day).accepted
    assert project.current_stage == 2
    row = session.exec(select(TransitionLog).where(TransitionLog.idempotency_key == "back")).one()
    context = logged_decision_context(session, cfg, project, row, None)
    assert context["decision"]["etape_renvoi"]["numero"] == 1
    subject, body = render_mail(MailKind.DECISION, context)
    assert subject.endswith("Étape 3 renvoyée à l'étape 1")
    assert "Le projet reprend à l'étape 1 ;" in body
