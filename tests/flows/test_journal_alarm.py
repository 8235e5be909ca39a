"""A broken journal raises the alarm: the daily sweep run fails and ATIGIP and the project's DISP are told."""

from datetime import date

import pytest
from sqlalchemy import text
from sqlmodel import Session, col, select

from flows.harness.scenario import SCENARIO_TODAY
from implantation.db.journal import verify
from implantation.db.models import ImplantationProject, Person, TransitionLog
from implantation.enums import Role
from tests.flow_stack import FlowStack

pytestmark = pytest.mark.prefect

ATIGIP = "pilotage.national@atigip.exemple.gouv.test"


@pytest.mark.parametrize("flow_stack", ["sqlite"], indirect=True)
def test_a_broken_chain_fails_the_sweep_and_alerts(flow_stack: FlowStack) -> None:
    fs = flow_stack
    projet_id = fs.driver().start()
    with Session(fs.engine) as session:
        if not session.exec(select(Person).where(Person.email == ATIGIP)).first():
            session.add(
                Person(
                    full_name="Camille Rousseau",
                    email=ATIGIP,
                    organisation="ATIGIP",
                    role=Role.ATIGIP,
                    territory="NATIONAL",
                )
            )
            session.commit()
        reference = session.get(ImplantationProject, projet_id).reference  # type: ignore[union-attr]
        row = session.exec(
            select(TransitionLog).where(TransitionLog.project_id == projet_id).order_by(col(TransitionLog.id))
        ).first()
        assert row is not None
        tampered, original = row.id, row.actor_label
    with fs.engine.begin() as conn:
        conn.execute(text("UPDATE transition_log SET actor_label = 'Réécrit' WHERE id = :i"), {"i": tampered})
    try:
        day: date = SCENARIO_TODAY  # nothing falls due that day: the sweep has only the journal to report
        run = fs.api.run_deployment("echeances/echeances", {"aujourdhui": day.isoformat()})
        assert fs.api.wait_state(run, {"FAILED"}, timeout=180) == "FAILED"
        message = fs.api.flow_run(run)["state"]["message"] or ""
        assert "journal des décisions altéré" in message
        assert f"décision n° {tampered} de la table transition_log" in message
        alerts = [m for m in fs.sink.messages if "Journal des décisions altéré" in str(m["Subject"])]
        assert len(alerts) == 1 and f"(projet {reference})" in str(alerts[0]["Subject"])
        told = {address.strip().lower() for address in str(alerts[0]["To"]).split(",")}
        assert ATIGIP in told and fs.ids.emails["cheffe.projet.disp"].lower() in told
        body = alerts[0].get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
        assert f"décision n° {tampered} de la table transition_log" in body
        assert "siae journal verifier" in body

        again = fs.api.run_deployment("echeances/echeances", {"aujourdhui": day.isoformat()})
        assert fs.api.wait_state(again, {"FAILED"}, timeout=180) == "FAILED"  # fails each day it is broken
        assert len([m for m in fs.sink.messages if "Journal des décisions altéré" in str(m["Subject"])]) == 1
    finally:
        with fs.engine.begin() as conn:
            conn.execute(
                text("UPDATE transition_log SET actor_label = :a WHERE id = :i"),
                {"a": original, "i": tampered},
            )
    with fs.engine.connect() as conn:
        assert verify(conn).ok
