"""Abandoning a project while a decision is taken at one of its gates: one waits for the other.

The abandonment takes the project's stage rows before it reads them, as a decision takes its stage's row:
a decision arriving meanwhile waits, then sees the project abandoned; a decision already taken is left as
it decided, and the stage it opened is cancelled with the others.
"""

import sqlite3
import threading
from datetime import date

import factories
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col, select

from implantation.config.schema import ProcessConfig
from implantation.db.models import ImplantationProject, StageRecord
from implantation.enums import Decision, ProjectStatus, StageStatus
from implantation.services import workflow
from implantation.services.decisions import DecisionOutcome, DecisionRequest

DAY = date(2026, 10, 2)


def _stage_rows_taken(engine: Engine, project_id: int) -> bool:
    """Can another connection write the project's stage rows right now? False if it can."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as other:
            try:
                other.execute(
                    text("SELECT id FROM stage_record WHERE project_id = :p FOR UPDATE NOWAIT"),
                    {"p": project_id},
                )
            except OperationalError:
                return True
            finally:
                other.rollback()
            return False
    other = sqlite3.connect(str(engine.url.database), timeout=0)
    try:
        other.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError:
        return True
    else:
        other.rollback()
        return False
    finally:
        other.close()


def _statuses(engine: Engine, project_id: int) -> dict[int, StageStatus]:
    with Session(engine) as session:
        rows = session.exec(
            select(StageRecord).where(StageRecord.project_id == project_id).order_by(col(StageRecord.stage))
        )
        return {r.stage: r.status for r in rows}


def _decide_in_thread(
    engine: Engine, cfg: ProcessConfig, project_id: int, approver_id: int
) -> tuple[threading.Thread, list[object]]:
    outcome: list[object] = []

    def run() -> None:
        try:
            with Session(engine) as session:
                request = DecisionRequest(1, Decision.APPROVE, approver_id, key="pendant-l-abandon")
                outcome.append(factories.decide(session, cfg, project_id, request, DAY, record_work=False))
                session.commit()
        except Exception as exc:  # checked in the test's thread
            outcome.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def test_a_decision_during_an_abandonment_waits_then_sees_it(engine: Engine, cfg: ProcessConfig) -> None:
    with Session(engine) as session:
        project, lead = factories.project(session, cfg)
        factories.stage_work(session, cfg, project.id, 1)  # type: ignore[arg-type]
        session.commit()
        project_id, lead_id = project.id, lead.id
    assert project_id is not None and lead_id is not None
    with Session(engine, expire_on_commit=False) as abandoning:
        loaded = abandoning.get(ImplantationProject, project_id)
        assert loaded is not None
        workflow.abandon(abandoning, loaded, "Locaux retirés par l'établissement", workflow.SYSTEM)
        assert _stage_rows_taken(engine, project_id), "l'abandon n'a pas pris les lignes des étapes"
        thread, outcome = _decide_in_thread(engine, cfg, project_id, lead_id)
        abandoning.commit()
    thread.join(timeout=120)
    assert not thread.is_alive()
    (result,) = outcome
    assert isinstance(result, DecisionOutcome), result
    assert not result.accepted and any(p.startswith("le projet est « ") for p in result.problems)
    assert set(_statuses(engine, project_id).values()) == {StageStatus.CANCELLED}


def test_a_decision_taken_before_the_abandonment_stands(engine: Engine, cfg: ProcessConfig) -> None:
    """The abandonment reads what the decision committed: stage 1 stays validated, the stage it opened is
    cancelled (a stale read would cancel stage 1 over its approval, and leave stage 2 as it was)."""
    with Session(engine) as session:
        project, lead = factories.project(session, cfg)
        session.commit()
        project_id, lead_id = project.id, lead.id
    assert project_id is not None and lead_id is not None
    with Session(engine, expire_on_commit=False) as abandoning:
        loaded = abandoning.get(ImplantationProject, project_id)
        assert loaded is not None
        seen = abandoning.exec(select(StageRecord).where(StageRecord.project_id == project_id)).all()
        assert {r.stage: r.status for r in seen}[1] == StageStatus.OPEN  # what the abandonment first saw
        with Session(engine) as deciding:
            request = DecisionRequest(1, Decision.APPROVE, lead_id, key="avant-l-abandon")
            assert factories.decide(deciding, cfg, project_id, request, DAY).accepted
            deciding.commit()
        workflow.abandon(abandoning, loaded, "Locaux retirés par l'établissement", workflow.SYSTEM)
        abandoning.commit()
    statuses = _statuses(engine, project_id)
    assert statuses[1] == StageStatus.VALIDATED
    assert {statuses[n] for n in statuses if n > 1} == {StageStatus.CANCELLED}
    with Session(engine) as session:
        assert session.get(ImplantationProject, project_id).status == ProjectStatus.ABANDONED  # type: ignore[union-attr]
