"""« suspendre » and « reprendre » at a real gate: the same stage run asks again, then decides."""

import pytest
from sqlmodel import col, select

from flows.harness.scenario import gate
from implantation.db.models import StageRecord, TransitionLog
from implantation.db.session import session_scope
from implantation.enums import StageStatus
from tests.flow_stack import FlowStack

pytestmark = pytest.mark.prefect


def test_suspend_then_resume_then_approve_at_the_same_gate(flow_stack: FlowStack) -> None:
    fs = flow_stack
    d, e = fs.driver(), fs.ids.emails
    projet_id = d.start()
    run1, _ = d.wait_gate(projet_id, 1)
    refused = d.answer(projet_id, 1, gate(e["cheffe.projet.disp"], decision="suspendre"), "sans motif")
    assert "un motif est obligatoire pour suspendre" in refused.outcome
    stopped = d.answer(
        projet_id,
        1,
        gate(
            e["cheffe.projet.disp"], decision="suspendre", motif="Plan des locaux attendu de l'établissement"
        ),
        "suspension",
    )
    assert stopped.outcome == "enregistré (suspendre)"
    with session_scope(fs.engine) as session:
        record = session.exec(
            select(StageRecord).where(StageRecord.project_id == projet_id, StageRecord.stage == 1)
        ).one()
        assert record.status == StageStatus.SUSPENDED
    # The same run asks again, with the stop shown above the form.
    again, details = d.wait_gate(projet_id, 1)
    assert again == run1
    description = fs.api.gate_description(again, details)
    assert "Étape suspendue depuis le" in description
    assert "En attente : Plan des locaux attendu de l'établissement" in description
    resumed = d.answer(projet_id, 1, gate(e["cheffe.projet.disp"], decision="reprendre"), "reprise")
    assert resumed.outcome == "enregistré (reprendre)"
    d.stage_work(projet_id, 1)  # its COPILs and deliverables, which the approval requires
    approved = d.answer(projet_id, 1, gate(e["cheffe.projet.disp"]), "approbation")
    assert approved.outcome == "enregistré (approuver)"
    d.wait_gate(projet_id, 2)
    assert fs.api.wait_state(run1, {"COMPLETED"}) == "COMPLETED"
    with session_scope(fs.engine) as session:
        rows = session.exec(
            select(TransitionLog)
            .where(TransitionLog.project_id == projet_id, TransitionLog.stage == 1)
            .order_by(col(TransitionLog.id))
        ).all()
    decided = [(r.transition, r.actor_role) for r in rows if r.accepted and r.transition != "ouvrir"]
    assert decided == [("suspendre", "disp"), ("reprendre", "disp"), ("approuver", "disp")]
    subjects = fs.sink.subjects()
    assert any("Étape 1 suspendue (horloge arrêtée)" in s for s in subjects)
    assert any("Étape 1 reprise (horloge relancée)" in s for s in subjects)
