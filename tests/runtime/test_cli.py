"""``siae demarrer``: a DISP lead starts an implantation from the command line, with ids only."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from flows.runtime.cli import app
from implantation.db.models import ImplantationProject, StageRecord
from implantation.enums import StageStatus
from tests.flow_stack import FlowStack

SIAE = Path(sys.executable).with_name("siae")


def test_a_bad_start_date_is_refused_in_french_before_any_call() -> None:
    result = CliRunner().invoke(
        app, ["demarrer", "--etablissement", "1", "--chef", "1", "--debut", "01/02/2027"]
    )
    assert result.exit_code == 1
    assert "champ « debut » : date invalide « 01/02/2027 »" in result.output
    assert "Traceback" not in result.output


@pytest.mark.prefect
@pytest.mark.parametrize("flow_stack", ["sqlite"], indirect=True)
def test_start_command_opens_stage_one_through_the_deployment(flow_stack: FlowStack) -> None:
    fs = flow_stack
    with Session(fs.engine) as session:
        before = set(session.exec(select(ImplantationProject.id)))
    env = {**os.environ, **{k: v for k, v in fs.stack.env.items() if k.startswith(("PREFECT_", "SIAE_"))}}
    done = subprocess.run(
        [
            str(SIAE),
            "demarrer",
            "--etablissement",
            str(fs.ids.establishment_id),
            "--chef",
            str(fs.ids.lead_id),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Implantation demandée" in done.stdout and "/runs/flow-run/" in done.stdout
    deadline = time.monotonic() + 90
    new: list[int | None] = []
    while time.monotonic() < deadline and not new:
        with Session(fs.engine) as session:
            new = [pid for pid in session.exec(select(ImplantationProject.id)) if pid not in before]
        time.sleep(1)
    assert len(new) == 1, "le déploiement n'a pas créé le projet"
    with Session(fs.engine) as session:
        stage = session.exec(
            select(StageRecord).where(StageRecord.project_id == new[0], StageRecord.stage == 1)
        ).one()
    assert stage.status == StageStatus.OPEN
