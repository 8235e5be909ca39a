"""The pilot's « dérogation motivée » through the gate form, on a real Prefect server.

Stage 1 requires two COPILs and three deliverables (``etapes.toml``), which ``derogation_pilote`` lets its
pilot (the DISP) approve without, with a motive. None is recorded here: the form offers the field, an
approval without it is refused, one with it goes through and the journal keeps what was missing.
"""

from typing import Any

import pytest
from sqlmodel import col, select

from flows.harness.scenario import gate
from implantation.db.models import StageRecord, TransitionLog
from implantation.db.session import session_scope
from implantation.enums import StageStatus
from tests.flow_stack import FlowStack

pytestmark = pytest.mark.prefect

MOTIVE = "Projet d'initiative locale déjà cadré en comité régional ; COPIL tenus hors outil."


def _form_schema(fs: FlowStack, run: str, details: dict[str, Any]) -> dict[str, Any]:
    schema = fs.api.gate_input(run, details, "schema")
    return schema if isinstance(schema, dict) else {}


@pytest.mark.parametrize("flow_stack", ["sqlite"], indirect=True)
def test_the_pilot_approves_through_the_form_with_a_motivated_override(flow_stack: FlowStack) -> None:
    fs = flow_stack
    driver = fs.driver()
    projet_id = driver.start()
    run, details = driver.wait_gate(projet_id, 1)
    field = _form_schema(fs, run, details)["properties"]["derogation"]
    assert field["title"] == "Dérogation motivée (pilote de l'étape)"

    lead = fs.ids.emails["cheffe.projet.disp"]
    facts = driver.form_facts(1, driver.today)
    refused = driver.answer(projet_id, 1, gate(lead, **facts), "approbation sans COPIL ni livrables")
    assert "COPIL de l'étape 1 : 0 enregistré(s) sur 2" in refused.outcome
    approved = driver.answer(
        projet_id, 1, gate(lead, derogation=MOTIVE, **facts), "approbation par dérogation motivée"
    )
    assert approved.outcome == "enregistré (approuver)"

    with session_scope(fs.engine) as session:
        rows = list(
            session.exec(
                select(TransitionLog)
                .where(TransitionLog.project_id == projet_id, TransitionLog.stage == 1)
                .order_by(col(TransitionLog.id))
            )
        )
        stage2 = session.exec(
            select(StageRecord).where(StageRecord.project_id == projet_id, StageRecord.stage == 2)
        ).one()
    override = next(r for r in rows if r.transition == "derogation")
    assert override.accepted and override.actor_id == fs.ids.lead_id
    assert (override.reason or "").startswith(MOTIVE + " — dérogation pour : ")
    assert "COPIL de l'étape 1 : 0 enregistré(s) sur 2" in (override.reason or "")
    assert "livrable(s) de l'étape 1 non enregistré(s)" in (override.reason or "")
    assert [r.transition for r in rows][-2:] == ["derogation", "approuver"]
    assert stage2.status == StageStatus.OPEN
