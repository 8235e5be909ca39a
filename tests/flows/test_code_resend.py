"""Re-sending a decision code is a run of the ``renvoyer-code`` deployment: the key stays where runs execute.

``siae decision renvoyer-code`` starts it from a workstation that has neither ``SIAE_SECRET_KEY`` nor the
application's database (nor the demonstration's mode that would make a key of its own); the run form of
the deployment starts the same run from the Prefect UI.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import col, select

from implantation.db.models import TransitionLog
from implantation.db.session import session_scope
from tests.flow_stack import FlowStack

pytestmark = pytest.mark.prefect

SIAE = Path(sys.executable).with_name("siae")


def _workstation(fs: FlowStack, tmp_path: Path) -> dict[str, str]:
    """An agent's machine: the Prefect server's address and the UI's, nothing of the application's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIAE_")}
    env.update(
        PREFECT_API_URL=fs.stack.env["PREFECT_API_URL"],
        SIAE_PREFECT_UI_URL=fs.stack.ui_url,
        SIAE_MODE="production",
        SIAE_DATA_DIR=str(tmp_path / "poste"),
        SIAE_DATABASE_URL=f"sqlite:///{tmp_path / 'absente' / 'siae.db'}",
        COLUMNS="240",
    )
    return env


def _resend(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SIAE), "decision", "renvoyer-code", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _resent_rows(fs: FlowStack, projet_id: int) -> list[TransitionLog]:
    with session_scope(fs.engine) as session:
        query = select(TransitionLog).where(
            TransitionLog.project_id == projet_id, TransitionLog.transition == "renvoi_code"
        )
        return list(session.exec(query.order_by(col(TransitionLog.id))))


@pytest.mark.parametrize("flow_stack", ["sqlite"], indirect=True)
def test_the_command_has_the_code_resent_by_a_run_without_the_secret(
    flow_stack: FlowStack, tmp_path: Path
) -> None:
    fs = flow_stack
    driver = fs.driver()
    projet_id = driver.start()
    driver.wait_gate(projet_id, 1)
    lead = fs.ids.emails["cheffe.projet.disp"]
    code = driver.received_code(projet_id, 1, lead)
    assert code
    mails_before = len(fs.sink.messages)
    env = _workstation(fs, tmp_path)

    done = _resend(env, str(projet_id), "--etape", "1", "--personne", lead)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Code de l'étape 1 du projet" in done.stdout and "inscrit au journal" in done.stdout
    resent = [
        m for m in fs.sink.messages[mails_before:] if "Votre code de décision – étape 1" in str(m["Subject"])
    ]
    assert len(resent) == 1 and lead.lower() in str(resent[0]["To"]).lower()
    assert driver.received_code(projet_id, 1, lead) == code  # the same code, computed by the run
    (row,) = _resent_rows(fs, projet_id)
    assert row.actor_label.startswith("Demande de renvoi (exécution Prefect « ")
    assert code not in (row.reason or "")
    assert not (tmp_path / "poste").exists()  # no key was made on the workstation

    # A person who may not decide there: the run fails with the reason, and the command says it.
    refused = _resend(env, str(projet_id), "--etape", "1", "--personne", "inconnu@example.org")
    assert refused.returncode == 1
    assert "Aucune personne enregistrée avec l'adresse « inconnu@example.org »" in refused.stderr
    assert len(_resent_rows(fs, projet_id)) == 1


@pytest.mark.parametrize("flow_stack", ["sqlite"], indirect=True)
def test_the_run_form_resends_a_code_too(flow_stack: FlowStack) -> None:
    """What a pilot does in the UI: « Run » on the deployment, with the project, the stage and the address."""
    fs = flow_stack
    driver = fs.driver()
    projet_id = driver.start()
    driver.wait_gate(projet_id, 1)
    lead = fs.ids.emails["cheffe.projet.disp"]
    run = fs.api.run_deployment(
        "renvoyer-code/renvoyer-code", {"projet": str(projet_id), "etape": 1, "personne": lead}
    )
    assert fs.api.wait_state(run, {"COMPLETED"}) == "COMPLETED"
    assert "renvoyé à" in (fs.api.flow_run(run)["state"]["message"] or "")
    assert len(_resent_rows(fs, projet_id)) == 1
    # Stage 2 is not open: the run fails, saying so.
    refused = fs.api.run_deployment(
        "renvoyer-code/renvoyer-code", {"projet": str(projet_id), "etape": 2, "personne": lead}
    )
    assert fs.api.wait_state(refused, {"FAILED"}) == "FAILED"
    assert "aucune décision attendue" in (fs.api.flow_run(refused)["state"]["message"] or "")
