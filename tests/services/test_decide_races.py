"""Two answers at the same gate at once, on both backends: the check and the write are one step.

The second ``decide`` runs in a thread on its own connection while the first one's transaction is still
open; the first commits only once the second has reached its first write (an event on the second's
connection, no sleep). Without the lock, the second read the stage as still open before that commit.
"""

import threading
from datetime import date
from typing import Any

import factories
import pytest
from factories import decide
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from implantation.config.schema import ProcessConfig
from implantation.db.models import StageRecord, TransitionLog
from implantation.enums import Decision, StageStatus
from implantation.services.decisions import DecisionOutcome, DecisionRequest

TODAY = date(2026, 12, 10)


def _race(
    engine: Engine, first: Session, cfg: ProcessConfig, project_id: int, second: DecisionRequest
) -> Any:
    """Run ``second`` in another thread until its first write, commit ``first``, and return its outcome."""
    writing = threading.Event()
    outcome: dict[str, Any] = {}
    worker_thread: list[threading.Thread] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if threading.current_thread() in worker_thread and statement.lstrip().upper().startswith(
            ("UPDATE", "INSERT")
        ):
            writing.set()

    def work() -> None:
        try:
            with Session(engine, expire_on_commit=False) as other:
                # The stage's work is the first session's: only the decisions race.
                outcome["value"] = decide(other, cfg, project_id, second, TODAY, record_work=False)
                other.commit()
        except Exception as exc:  # reported to the test below
            outcome["error"] = exc
        finally:
            writing.set()

    event.listen(engine, "before_cursor_execute", before)
    try:
        worker = threading.Thread(target=work)
        worker_thread.append(worker)
        worker.start()
        assert writing.wait(60), "la seconde décision n'a jamais écrit"
        first.commit()
        worker.join(60)
        assert not worker.is_alive()
    finally:
        event.remove(engine, "before_cursor_execute", before)
    return outcome


@pytest.fixture
def started(session: Session, cfg: ProcessConfig) -> tuple[int, int]:
    project, lead = factories.project(session, cfg)
    session.commit()
    assert project.id is not None and lead.id is not None
    return project.id, lead.id


def _approvals(session: Session, project_id: int) -> list[TransitionLog]:
    session.expire_all()
    return list(
        session.exec(
            select(TransitionLog)
            .where(TransitionLog.project_id == project_id, TransitionLog.transition == "approuver")
            .order_by(col(TransitionLog.id))
        )
    )


def test_two_approvals_at_once_apply_once(
    engine: Engine, session: Session, cfg: ProcessConfig, started: tuple[int, int]
) -> None:
    project_id, lead_id = started
    first = decide(session, cfg, project_id, DecisionRequest(1, Decision.APPROVE, lead_id, key="a"), TODAY)
    assert first.accepted
    result = _race(engine, session, cfg, project_id, DecisionRequest(1, Decision.APPROVE, lead_id, key="b"))
    assert "error" not in result, result.get("error")
    second: DecisionOutcome = result["value"]
    assert not second.accepted
    assert second.problems == ["l'étape 1 n'est pas en cours (« Validée »)"]
    assert [row.idempotency_key for row in _approvals(session, project_id)] == ["a"]
    stage_two = session.exec(
        select(StageRecord).where(StageRecord.project_id == project_id, StageRecord.stage == 2)
    ).one()
    assert stage_two.status == StageStatus.OPEN and stage_two.attempt == 1


def test_the_same_answer_twice_at_once_replays_the_logged_outcome(
    engine: Engine, session: Session, cfg: ProcessConfig, started: tuple[int, int]
) -> None:
    project_id, lead_id = started
    request = DecisionRequest(1, Decision.APPROVE, lead_id, key="projet-1-etape-1-tentative-1-saisie-1")
    first = decide(session, cfg, project_id, request, TODAY)
    result = _race(engine, session, cfg, project_id, request)
    assert "error" not in result, result.get("error")
    second: DecisionOutcome = result["value"]
    assert second.accepted and second.replayed
    assert (second.next_stage, second.next_attempt) == (first.next_stage, first.next_attempt) == (2, 1)
    assert len(_approvals(session, project_id)) == 1
