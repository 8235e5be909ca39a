"""``siae documents generer --pdf`` holds no lock while LibreOffice converts: a decision taken meanwhile, anywhere
in the country, goes through.

The conversion is held open by a wrapper around the real soffice that waits for the test's signal before
converting; the test takes a decision during that wait, then lets the conversion finish.
"""

import os
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path

import factories
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from implantation.config.schema import ProcessConfig
from implantation.db.journal import verify
from implantation.db.models import DocumentRecord, StageRecord
from implantation.documents.render import find_soffice
from implantation.enums import Decision, StageStatus
from implantation.services.decisions import DecisionRequest

pytestmark = pytest.mark.libreoffice

SOFFICE = find_soffice(None)
SIAE = Path(sys.executable).with_name("siae")
WRAPPER = """#!/bin/sh
touch "{marker}.ouverte"
while [ ! -e "{marker}.suite" ]; do sleep 0.05; done
exec "{soffice}" "$@"
"""


def _wait_for(condition, what: str, process: subprocess.Popen[str], timeout: float = 180) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if process.poll() is not None:
            pytest.fail(f"la commande s'est arrêtée avant {what} : {process.communicate()}")
        assert time.monotonic() < deadline, f"{what} : toujours pas après {timeout:.0f} s"
        time.sleep(0.05)


@pytest.mark.skipif(
    SOFFICE is None, reason="LibreOffice (soffice) absent : installer libreoffice-writer-nogui"
)
def test_a_decision_goes_through_while_the_pack_converts(
    engine: Engine,
    migrated_url: str,
    cfg: ProcessConfig,
    demo_config_dir: Path,
    new_project,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    with Session(engine) as session:
        documents_project = new_project(session)
        project, lead = factories.project(session, cfg)
        factories.stage_work(session, cfg, project.id, 1)  # type: ignore[arg-type]
        session.commit()
        deciding, lead_id = project.id, lead.id
    assert deciding is not None and lead_id is not None
    marker = tmp_path / "conversion"
    wrapper = tmp_path / "soffice-retenu"
    wrapper.write_text(WRAPPER.format(marker=marker, soffice=SOFFICE), encoding="utf-8")
    wrapper.chmod(0o755)
    env = {
        **os.environ,
        "SIAE_DATABASE_URL": migrated_url,
        "SIAE_CONFIG_DIR": str(demo_config_dir),
        "SIAE_DATA_DIR": str(tmp_path / "data"),
        "SIAE_SOFFICE_PATH": str(wrapper),
    }
    command = subprocess.Popen(
        [str(SIAE), "documents", "generer", str(documents_project), "--pdf"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    released = Path(f"{marker}.suite")
    try:
        _wait_for(Path(f"{marker}.ouverte").exists, "l'ouverture de la conversion", command)

        outcome: list[object] = []

        def decide() -> None:
            try:
                with Session(engine) as other:
                    request = DecisionRequest(1, Decision.APPROVE, lead_id, key="pendant-la-conversion")
                    outcome.append(factories.decide(other, cfg, deciding, request, date(2026, 10, 2)))
                    other.commit()
            except Exception as exc:  # reported below, in the test's thread
                outcome.append(exc)

        decision = threading.Thread(target=decide)
        decision.start()
        decision.join(timeout=90)
        held = decision.is_alive()
        released.touch()  # whatever happened, the conversion may go on
        decision.join()
        assert not held, "la décision attendait la fin de la conversion"
        (result,) = outcome
        assert not isinstance(result, Exception), result
        assert result.accepted, result.problems  # type: ignore[attr-defined]
        with Session(engine) as session:
            stage2 = session.exec(
                select(StageRecord).where(StageRecord.project_id == deciding, StageRecord.stage == 2)
            ).one()
            assert stage2.status == StageStatus.OPEN

        stdout, stderr = command.communicate(timeout=300)
        assert command.returncode == 0, stdout + stderr
    finally:
        released.touch()
        if command.poll() is None:
            command.kill()
            command.communicate()
    with Session(engine) as session:
        documents = session.exec(
            select(DocumentRecord).where(DocumentRecord.project_id == documents_project)
        ).all()
        assert documents and all(d.pdf_filename and d.pdf_sha256 for d in documents)
        assert verify(session.connection()).ok
    folder = tmp_path / "data" / "documents" / "IMP-2026-0001"
    assert sorted(p.name for p in folder.iterdir() if p.name.startswith(".")) == []  # no work left aside
