"""``siae demarrer``: a DISP lead starts an implantation from the command line, with ids only."""

import os
import subprocess
import sys
import time
from pathlib import Path

import factories
import httpx
import pytest
from prefect.exceptions import ObjectNotFound
from sqlmodel import Session, select
from typer.testing import CliRunner

from flows.runtime.cli import app, prefect_failure
from implantation.config.schema import ProcessConfig
from implantation.db.models import ImplantationProject, StageRecord, TransitionLog
from implantation.enums import ProjectStatus, StageStatus
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
    _start_and_check(fs, env, before)


def _start_and_check(fs: FlowStack, env: dict[str, str], before: set[int | None]) -> None:
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


def test_server_failures_are_told_in_french_without_the_raw_exception() -> None:
    url = "http://127.0.0.1:4200/api"
    request = httpx.Request("POST", f"{url}/deployments/x/create_flow_run")
    refused = httpx.HTTPStatusError(
        "Client error '422 Unprocessable Entity'",
        request=request,
        response=httpx.Response(422, request=request, text='{"detail": "chef_de_projet_id: must be >= 1"}'),
    )
    assert prefect_failure(refused, url, "d/d") == (
        "le serveur Prefect refuse « chef » (HTTP 422) : vérifiez les choix donnés."
    )
    missing = prefect_failure(ObjectNotFound(http_exc=refused), url, "d/d")
    assert missing.startswith("déploiement « d/d » absent du serveur Prefect")
    down = prefect_failure(httpx.ConnectError("[Errno 111] Connection refused"), url, "d/d")
    assert down.startswith("impossible de joindre le serveur Prefect") and "Errno" not in down
    other = prefect_failure(RuntimeError("boom"), url, "d/d")
    assert "boom" not in other and "RuntimeError" in other


def _siae(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SIAE), *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_abandoning_without_a_server_commits_and_says_what_remains_to_do(
    migrated_url: str, session: Session, cfg: ProcessConfig, tmp_path: Path
) -> None:
    project, _lead = factories.project(session, cfg)
    session.commit()
    env = {
        **os.environ,
        "SIAE_DATABASE_URL": migrated_url,
        "SIAE_DATA_DIR": str(tmp_path),
        "PREFECT_API_URL": "http://127.0.0.1:9/api",
    }
    done = _siae(env, "projet", "abandonner", str(project.id), "--motif", "Locaux retirés")
    assert done.returncode == 0, done.stderr
    assert f"Projet {project.reference} abandonné" in done.stdout
    assert "serveur Prefect injoignable (http://127.0.0.1:9/api)" in done.stdout
    session.expire_all()
    assert session.get(ImplantationProject, project.id).status == ProjectStatus.ABANDONED  # type: ignore[union-attr]


@pytest.mark.prefect
@pytest.mark.parametrize(
    "flow_stack", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
def test_abandoning_cancels_the_suspended_stage_run_and_logs_it(flow_stack: FlowStack) -> None:
    fs = flow_stack
    driver = fs.driver()
    projet_id = driver.start()
    run_id, _details = driver.wait_gate(projet_id, 1)
    env = {**os.environ, **{k: v for k, v in fs.stack.env.items() if k.startswith(("PREFECT_", "SIAE_"))}}
    done = _siae(env, "projet", "abandonner", str(projet_id), "--motif", "Établissement fermé")
    assert done.returncode == 0, done.stderr
    assert f"Exécution en attente « projet-{projet_id}-etape-1-tentative-1 » annulée" in done.stdout
    assert fs.api.state(run_id)[0] == "CANCELLED"
    with Session(fs.engine) as session:
        rows = session.exec(
            select(TransitionLog).where(
                TransitionLog.project_id == projet_id, TransitionLog.transition == "annuler_execution"
            )
        ).all()
    assert [(r.stage, r.actor_label) for r in rows] == [(1, "Ligne de commande")]
