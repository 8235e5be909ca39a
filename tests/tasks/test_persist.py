"""The database side of a gate answer (``tasks.persist.apply_answer``), on both backends: decide, replay,
unreadable input, and the project created once per run."""

from datetime import date

import factories
from sqlmodel import Session, select

from implantation.config.schema import ProcessConfig
from implantation.db.models import ImplantationProject, Person, TransitionLog
from implantation.enums import Role
from implantation.services import decisions, gate_codes, workflow
from tasks.persist import GateResult, creation_key_of_run
from tasks.persist import apply_answer as _apply_answer

TODAY = date(2026, 12, 10)


def _answer(email: str, decision: str, **fields: object) -> dict[str, object]:
    return {"approbateur": email, "decision": decision, "motif": "", **fields}


def apply_answer(
    session: Session,
    cfg: ProcessConfig,
    project_id: int,
    stage: int,
    key: str,
    answer: dict[str, object],
    today: date,
) -> GateResult:
    """The answer as the flow applies it: the stage's work recorded, with the approver's own code."""
    factories.stage_work(session, cfg, project_id, stage)
    person = session.exec(select(Person).where(Person.email == answer["approbateur"])).first()
    if person is not None and person.id is not None and "code" not in answer:
        answer = {
            **answer,
            "code": gate_codes.current_code(session, factories.SECRET, project_id, stage, person.id, key),
        }
    return _apply_answer(session, cfg, project_id, stage, key, answer, today, factories.SECRET)


def test_an_approval_names_the_next_stage_and_its_attempt(session: Session, cfg: ProcessConfig) -> None:
    project, lead = factories.project(session, cfg)
    assert project.id is not None
    result = apply_answer(session, cfg, project.id, 1, "k1", _answer(lead.email, "approuver"), TODAY)
    assert result == GateResult(accepted=True, decision="approuver", next_stage=2, next_attempt=1)
    row = session.exec(select(TransitionLog).where(TransitionLog.idempotency_key == "k1")).one()
    assert (row.next_stage, row.next_attempt) == (2, 1)


def test_a_replay_returns_what_the_decision_did_then_not_what_the_project_is_now(
    session: Session, cfg: ProcessConfig
) -> None:
    project, lead = factories.project(session, cfg)
    ddets = factories.person(session, cfg, Role.DDETS, "38")
    assert project.id is not None
    approve = _answer(lead.email, "approuver")
    send_back = _answer(ddets.email, "renvoyer", motif="Local indisponible", etape_renvoi=1)
    first = apply_answer(session, cfg, project.id, 1, "k1", approve, TODAY)
    back = apply_answer(session, cfg, project.id, 2, "k2", send_back, TODAY)
    again = apply_answer(session, cfg, project.id, 1, "k3", approve, TODAY)
    session.commit()
    assert (first.next_stage, first.next_attempt) == (2, 1)
    assert (back.next_stage, back.next_attempt) == (1, 2)
    assert (again.next_stage, again.next_attempt) == (2, 2)
    # Since then stage 2 runs its second attempt and the project sits at stage 2: the replays still name the
    # runs their decisions started.
    replay_first = apply_answer(session, cfg, project.id, 1, "k1", approve, TODAY)
    replay_back = apply_answer(session, cfg, project.id, 2, "k2", send_back, TODAY)
    assert replay_first.replayed and (replay_first.next_stage, replay_first.next_attempt) == (2, 1)
    assert replay_back.replayed and (replay_back.next_stage, replay_back.next_attempt) == (1, 2)
    keyed = session.exec(select(TransitionLog.idempotency_key).where(TransitionLog.project_id == project.id))
    assert sorted(k for k in keyed if k) == ["k1", "k2", "k3"]


def test_a_launch_replays_as_a_launch(session: Session, cfg: ProcessConfig) -> None:
    project, _lead = factories.project(session, cfg)
    assert project.id is not None
    row = decisions.DecisionOutcome.logged(
        TransitionLog(project_id=project.id, stage=6, transition="approuver", actor_label="x", accepted=True),
        cfg.last_stage,
    )
    assert row.launched and row.next_stage is None


def test_an_unreadable_answer_is_refused_in_french_naming_the_field(
    session: Session, cfg: ProcessConfig
) -> None:
    project, lead = factories.project(session, cfg)
    assert project.id is not None
    bad_target = _answer(lead.email, "renvoyer", motif="x", etape_renvoi="deux")
    result = apply_answer(session, cfg, project.id, 1, "k1", bad_target, TODAY)
    assert not result.accepted
    assert result.problems == [
        "saisie illisible : champ « Étape de renvoi » illisible : « deux » n'est pas une étape de la liste"
    ]
    bad_date = _answer(lead.email, "approuver", date_lancement="31/08/2027")
    assert apply_answer(session, cfg, project.id, 6, "k2", bad_date, TODAY).problems == [
        "saisie illisible : champ « Date de démarrage de l'activité » illisible : « 31/08/2027 » "
        "n'est pas une date AAAA-MM-JJ"
    ]
    bad_decision = apply_answer(session, cfg, project.id, 1, "k3", _answer(lead.email, "valider"), TODAY)
    assert bad_decision.problems[0].startswith(
        "saisie illisible : champ « Décision » illisible : « valider »"
    )
    assert "invalid" not in " ".join(result.problems + bad_decision.problems)
    # Nothing was written for an unreadable answer: the person is asked again.
    assert session.exec(select(TransitionLog).where(TransitionLog.idempotency_key == "k1")).first() is None


def test_a_project_created_under_a_run_key_is_created_once(session: Session, cfg: ProcessConfig) -> None:
    project, lead = factories.project(session, cfg)
    assert project.establishment_id is not None and lead.id is not None
    key = creation_key_of_run("8c1f")
    assert key is not None and creation_key_of_run(None) is None
    args = (session, cfg, project.establishment_id, lead.id, TODAY, workflow.Actor.of(lead))
    created = workflow.create_project(*args, key=key)
    session.commit()
    rerun = workflow.create_project(*args, key=key)
    assert rerun.id == created.id
    assert len(session.exec(select(ImplantationProject)).all()) == 2
