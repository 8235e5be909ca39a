"""The ``tableau-national`` deployment on a real Prefect server: the table artifact and the e-mail to ATIGIP."""

import json
from datetime import date

import factories
import pytest
from sqlmodel import Session

from implantation.db.models import Person
from implantation.enums import Decision, Role
from implantation.services.decisions import DecisionRequest
from implantation.services.overview_export import COLUMNS
from implantation.services.workflow import SYSTEM, create_project
from tests.flow_stack import FlowStack

pytestmark = pytest.mark.prefect

# The opérateurs that factories.complete_for_documents enters, searched for in every output.
NEEDLES = [v for n in range(2) for v in (f"Opérateur{n}", f"Prénom{n}", f"TEST-{n:05d}")]


def test_overview_deployment_publishes_the_table_and_mails_atigip(flow_stack: FlowStack) -> None:
    fs = flow_stack
    with Session(fs.engine, expire_on_commit=False) as session:
        project = create_project(
            session, fs.cfg, fs.ids.establishment_id, fs.ids.lead_id, date(2026, 9, 1), SYSTEM
        )
        assert project.id is not None
        factories.complete_for_documents(session, fs.cfg, project, date(2027, 3, 1))  # two « affectés »
        outcome = factories.decide(
            session,
            fs.cfg,
            project.id,
            DecisionRequest(
                stage=1,
                decision=Decision.SUSPEND,
                approver_id=fs.ids.lead_id,
                reason="Plan des locaux attendu de l'établissement",
            ),
            date(2026, 10, 5),
        )
        assert outcome.accepted, outcome.problems
        session.add(
            Person(
                full_name="Camille Rousseau",
                email="pilotage.national@atigip.exemple.gouv.test",
                organisation="ATIGIP",
                role=Role.ATIGIP,
                territory="NATIONAL",
            )
        )
        session.commit()
        reference = project.reference

    run = fs.api.run_deployment("tableau-national/tableau-national", {"aujourdhui": "2026-12-01"})
    assert fs.api.wait_state(run, {"COMPLETED", "FAILED", "CRASHED"}, timeout=180) == "COMPLETED"

    artifacts = [a for a in fs.api.artifacts() if a.get("key") == "tableau-national"]
    assert len(artifacts) == 1 and artifacts[0]["type"] == "table"
    assert "Tableau national des implantations au 01/12/2026" in artifacts[0]["description"]
    table = json.loads(artifacts[0]["data"])
    row = next(line for line in table if line["Référence"] == reference)
    assert list(row) == list(COLUMNS)
    assert row["Établissement"] == "Centre pénitentiaire de Grenoble-Varces"
    assert row["DISP"] == "LYON" and row["État de l'étape"].startswith("Suspendue")
    assert row["Attente (motif de la suspension)"] == "Plan des locaux attendu de l'établissement"
    assert row["Opérateurs sous CEP"] == "2"
    assert not [needle for needle in NEEDLES if needle in artifacts[0]["data"]]

    mails = [m for m in fs.sink.messages if "Tableau national au 01/12/2026" in str(m["Subject"])]
    assert len(mails) == 1
    assert mails[0]["To"] == "pilotage.national@atigip.exemple.gouv.test"
    names = sorted(part.get_filename() for part in mails[0].iter_attachments())
    assert names == ["tableau-national_2026-12-01.png", "tableau-national_2026-12-01.xlsx"]
    body = mails[0].get_body().get_content()
    assert "Étapes suspendues" in body and reference in body
    assert not [needle for needle in NEEDLES if needle in body]

    # Run again on demand the same day: the table gets a new version, ATIGIP no second e-mail.
    again = fs.api.run_deployment("tableau-national/tableau-national", {"aujourdhui": "2026-12-01"})
    assert fs.api.wait_state(again, {"COMPLETED", "FAILED", "CRASHED"}, timeout=180) == "COMPLETED"
    assert len([m for m in fs.sink.messages if "Tableau national au 01/12/2026" in str(m["Subject"])]) == 1
