"""The production recipe of ``deploy/README.md``, played on this machine with no other network.

- The Prefect server listens on ``0.0.0.0`` with basic auth, under the public name ``siae.exemple.test`` that
  Chromium resolves to the loopback (``--host-resolver-rules``), as a browser on another machine would reach it.
- Two runners act as two machines: each its own working directory, ``PREFECT_HOME`` and data folder. They
  share only what the runbook shares: the application database (PostgreSQL, documents' bytes included) and
  the task results folder (``PREFECT_LOCAL_STORAGE_PATH``).
- The schema is upgraded once, by ``siae migrer``; the runners only check it.
- Stage 5 is produced through runner A and its documents signed; runner A is stopped; a person logs in at the
  public address, follows the link of the approval e-mail she received, and decides in the UI; runner B
  takes the gate. The signed versions count (no new version), and the decision and every e-mail exist once.
- The application database is saved with ``pg_dump``, restored with ``pg_restore`` into a new database, the
  journal verifies (``siae journal verifier``), and the project goes on from the restored database.
"""

import os
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from factories import complete_for_documents, decide, stage_work
from playwright.sync_api import Browser, sync_playwright
from postgres_server import DATABASES, require_postgres
from sqlmodel import select

from flows.harness.api import PrefectApi
from flows.harness.samples import seed
from flows.harness.scenario import SCENARIO_TODAY, Driver, gate
from flows.harness.smtp_sink import SmtpSink
from flows.runtime.launcher import (
    Service,
    auth_headers,
    free_port,
    production_env,
    start_runner,
    start_server,
)
from implantation.config.loader import demo_config, load_process_config
from implantation.db.models import (
    DocumentRecord,
    ImplantationProject,
    NotificationRecord,
    Person,
    SignatureRecord,
    StageRecord,
    TransitionLog,
)
from implantation.db.session import make_engine, session_scope
from implantation.enums import Decision, ProjectStatus, StageStatus
from implantation.keys import stage_attempt_key
from implantation.services import workflow
from implantation.services.decisions import DecisionRequest
from implantation.signatures.authority import CERT_FILE, DEMO_FOLDER
from tests.flows.test_resume_form_ui import CHROMIUM, CHROMIUM_ARGS, UI_TIMEOUT_MS, _answer_in_ui

pytestmark = [pytest.mark.prefect, pytest.mark.ui, pytest.mark.postgres]

PUBLIC_HOST = "siae.exemple.test"
AUTH = "siae:mot-de-passe-de-la-recette"
SIAE = Path(sys.executable).parent / "siae"
LINK = re.compile(r"https?://[^\s>\"]+/runs/flow-run/[0-9a-f-]{36}")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Chromium resolving the public name to the loopback, as a DNS of the administration would."""
    if CHROMIUM is None:
        reason = "Chromium absent : installer le paquet chromium"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} — en CI (CI=true), la recette doit s'exécuter.")
        pytest.skip(reason)
    with sync_playwright() as p:
        rules = f"--host-resolver-rules=MAP {PUBLIC_HOST} 127.0.0.1"
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, rules])
        yield chromium
        chromium.close()


def _machine(base: Path, name: str) -> Path:
    """A machine's own folders: nothing of them is shared (documents live in the application database)."""
    root = base / name
    for folder in ("travail", "prefect", "data"):
        (root / folder).mkdir(parents=True)
    return root


def _siae(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SIAE), *args], env=env, capture_output=True, text=True, timeout=300, check=False
    )


def test_the_production_recipe_with_two_runners(tmp_path: Path, browser: Browser) -> None:
    require_postgres()
    names = [DATABASES.create("siae_recette"), DATABASES.create("siae_recette_prefect")]
    services: list[Service] = []
    sink = SmtpSink().start()
    try:
        _recipe(tmp_path, browser, names, services, sink)
    finally:
        for service in reversed(services):
            service.stop()
        sink.stop()
        DATABASES.drop(*names)


def _recipe(
    tmp_path: Path, browser: Browser, names: list[str], services: list[Service], sink: SmtpSink
) -> None:
    app_url = DATABASES.url(names[0])
    shared = tmp_path / "partage"
    shared.mkdir()
    machine_a, machine_b = _machine(tmp_path, "machine-a"), _machine(tmp_path, "machine-b")
    config_dir = demo_config(tmp_path / "config")
    cfg = load_process_config(config_dir)
    # What the runbook's environment file holds, the same on both machines (no variable of this shell).
    common = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "SIAE_"))}
    common |= {
        "PREFECT_SERVER_API_AUTH_STRING": AUTH,
        "PREFECT_API_AUTH_STRING": AUTH,
        "SIAE_SECRET_KEY": "cle-de-la-recette-longue-et-aleatoire",
        "SIAE_DATABASE_URL": app_url,
        "PREFECT_LOCAL_STORAGE_PATH": str(shared / "resultats"),
        "SIAE_SMTP_HOST": sink.host,
        "SIAE_SMTP_PORT": str(sink.port),
        "SIAE_SMTP_STARTTLS": "false",
        "SIAE_CONFIG_DIR": str(config_dir),
        # The scenario's dates (amounts in force, launch dates): the test suite's mode.
        "SIAE_MODE": "test",
        "SIAE_TODAY": SCENARIO_TODAY.isoformat(),
    }

    # One explicit schema upgrade, then the referential.
    migrated = _siae({**common, "SIAE_DATA_DIR": str(machine_a / "data")}, "migrer")
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    engine = make_engine(app_url)
    with session_scope(engine) as session:
        ids = seed(session)

    # Machine A: the server on every interface under its public name, and runner A.
    port = free_port("0.0.0.0")
    public = f"http://{PUBLIC_HOST}:{port}"
    env_a = production_env(
        {**common, "PREFECT_HOME": str(machine_a / "prefect"), "SIAE_DATA_DIR": str(machine_a / "data")},
        host="0.0.0.0",
        port=port,
        data_dir=machine_a / "data",
        url_publique=public,
        database_url=DATABASES.url(names[1], "postgresql+asyncpg"),
    )
    assert not [k for k, v in env_a.items() if "://0.0.0.0" in v]
    services.append(start_server(env_a, machine_a / "journaux"))
    runner_a = start_runner(
        env_a, machine_a / "journaux", schedules=False, name="runner-a", cwd=machine_a / "travail"
    )
    services.append(runner_a)
    local_api = env_a["PREFECT_API_URL"]
    ui_settings = httpx.get(f"http://127.0.0.1:{port}/ui-settings", headers=auth_headers(env_a), timeout=30)
    assert ui_settings.json()["api_url"] == f"{public}/api"
    assert httpx.post(f"{local_api}/flow_runs/filter", json={}, timeout=30).status_code == 401

    api = PrefectApi(local_api, headers=auth_headers(env_a))
    driver = Driver(api, engine, cfg, ids, sink=sink, app_env=env_a)
    launch_on = driver.launch_date(SCENARIO_TODAY + timedelta(days=60))
    with session_scope(engine) as session:
        lead = session.get(Person, ids.lead_id)
        assert lead is not None
        project = workflow.create_project(
            session, cfg, ids.establishment_id, ids.lead_id, SCENARIO_TODAY, workflow.Actor.of(lead)
        )
        assert project.id is not None
        projet_id = project.id
        complete_for_documents(session, cfg, project, launch_on, operateurs=1)
        p = ids.person_ids
        for request in (
            DecisionRequest(1, Decision.APPROVE, p["cheffe.projet.disp"]),
            DecisionRequest(
                2,
                Decision.APPROVE,
                p["referent.dreets"],
                candidate_siae_ids=[ids.siae_id, ids.other_siae_id],
                selected_siae_id=ids.siae_id,
                activity="Tri de textiles",
            ),
            DecisionRequest(3, Decision.APPROVE, p["direction.cp-varces"]),
            DecisionRequest(4, Decision.APPROVE, p["spip38"]),
        ):
            outcome = decide(session, cfg, projet_id, request, SCENARIO_TODAY)
            assert outcome.accepted, outcome.problems
        stage_work(session, cfg, projet_id, 5)
        reference = project.reference

    # Stage 5 through runner A: the pack is produced and sent, the gate waits; then everyone signs.
    key5 = stage_attempt_key(projet_id, 5, 1)
    api.post(
        f"/deployments/{api.deployment_id('etape/etape')}/create_flow_run",
        {"parameters": {"projet_id": projet_id, "etape": 5}, "name": key5, "idempotency_key": key5},
    )
    run5, details5 = driver.wait_gate(projet_id, 5)
    assert driver.sign_drafts(projet_id) > 0
    # The authorities are installed on every machine (deploy/README.md): machine B gets the public certificate
    # of the demonstration authority that issued the signers' certificates, never its key.
    authority = machine_a / "data" / DEMO_FOLDER / CERT_FILE
    (machine_b / "data" / DEMO_FOLDER).mkdir()
    (machine_b / "data" / DEMO_FOLDER / CERT_FILE).write_bytes(authority.read_bytes())
    with session_scope(engine) as session:
        documents = {
            d.id for d in session.exec(select(DocumentRecord).where(DocumentRecord.project_id == projet_id))
        }
        signatures = len(
            session.exec(select(SignatureRecord).where(SignatureRecord.document_id.in_(documents))).all()  # type: ignore[union-attr]
        )
    assert documents and signatures

    # Runner A stops (its machine goes down for maintenance); runner B, on the other machine, takes over.
    runner_a.stop()
    env_b = production_env(
        {
            **common,
            "PREFECT_API_URL": local_api,  # this machine's « network »: the server's address as B reaches it
            "SIAE_URL_PUBLIQUE": public,
            "PREFECT_HOME": str(machine_b / "prefect"),
            "SIAE_DATA_DIR": str(machine_b / "data"),
        },
        host="127.0.0.1",
        port=port,
        data_dir=machine_b / "data",
        sans_serveur=True,
    )
    runner_b = start_runner(
        env_b, machine_b / "journaux", schedules=False, name="runner-b", cwd=machine_b / "travail"
    )
    services.append(runner_b)

    # The DREETS referent logs in at the public address, opens the link of her e-mail and decides.
    referent = driver.email("referent.dreets")
    asked = [
        m
        for m in sink.messages
        if referent.lower() in str(m["To"]).lower()
        and f"{reference} – Décision attendue – étape 5" in str(m["Subject"])
    ]
    assert len(asked) == 1
    body = asked[0].get_body(preferencelist=("plain",))
    links = LINK.findall(str(body.get_content()) if body else "")
    assert links and all(link.startswith(f"{public}/") for link in links), links
    assert not [m for m in sink.messages if "0.0.0.0" in m.as_string()]
    link = next(link for link in links if run5 in link)
    code = driver.received_code(projet_id, 5, referent)
    context = browser.new_context(viewport={"width": 1400, "height": 2000})
    try:
        context.set_default_timeout(UI_TIMEOUT_MS)
        page = context.new_page()
        page.goto(public)
        password = page.get_by_placeholder("admin:pass")
        password.fill(AUTH)
        page.get_by_role("button", name="Login").click()
        password.wait_for(state="detached")
        page.close()
        _answer_in_ui(context, link, referent, code, "approuver", reason="Convention relue.")
    finally:
        context.close()

    key = str(details5["pause_key"])
    assert driver.outcome(key) == "enregistré (approuver)"
    assert api.wait_state(run5, {"COMPLETED"}, timeout=240) == "COMPLETED"
    driver.wait_gate(projet_id, 6, timeout=240)  # stage 6 opened by runner B
    with session_scope(engine) as session:
        rows = session.exec(select(TransitionLog).where(TransitionLog.idempotency_key == key)).all()
        assert [(r.transition, r.accepted) for r in rows] == [("approuver", True)]
        stage5 = session.exec(
            select(StageRecord).where(StageRecord.project_id == projet_id, StageRecord.stage == 5)
        ).one()
        assert stage5.status == StageStatus.VALIDATED
        after = {
            d.id for d in session.exec(select(DocumentRecord).where(DocumentRecord.project_id == projet_id))
        }
        assert after == documents  # the signed versions count: nothing produced again
        assert (
            len(session.exec(select(SignatureRecord).where(SignatureRecord.document_id.in_(after))).all())  # type: ignore[union-attr]
            == signatures
        )
        records = session.exec(
            select(NotificationRecord).where(NotificationRecord.project_id == projet_id)
        ).all()
    assert [r.dedup_key for r in records if r.pending] == []
    assert len({r.dedup_key for r in records}) == len(records)
    received = Counter(str(m["Message-ID"]) for m in sink.messages if reference in str(m["Subject"]))
    assert [i for i, n in received.items() if n > 1] == []
    assert len(received) == len(records)

    # Backup, restore into a new database, verify the journal, and go on from the restored database.
    dump = tmp_path / "siae.dump"
    subprocess.run(["pg_dump", "--format=custom", f"--file={dump}", app_url], check=True, timeout=300)
    names.append(DATABASES.create("siae_recette_restauree"))
    restored = DATABASES.url(names[-1])
    subprocess.run(["pg_restore", "--no-owner", f"--dbname={restored}", str(dump)], check=True, timeout=300)
    verified = _siae(
        {**common, "SIAE_DATABASE_URL": restored, "SIAE_DATA_DIR": str(machine_b / "data")},
        "journal",
        "verifier",
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr

    runner_b.stop()
    env_b["SIAE_DATABASE_URL"] = restored
    services.append(
        start_runner(
            env_b,
            machine_b / "journaux",
            schedules=False,
            name="runner-b-restauree",
            cwd=machine_b / "travail",
        )
    )
    restored_engine = make_engine(restored)
    try:
        after_restore = Driver(api, restored_engine, cfg, ids, sink=sink, app_env={**env_b})
        after_restore.stage_work(projet_id, 6)
        checklist = {"locaux_amenages": True, "interlocuteurs_nommes": True, "protocole_sortie": True}
        answer = after_restore.answer(
            projet_id,
            6,
            gate(driver.email("direction.laremise"), date_lancement=launch_on.isoformat(), **checklist),
            "la SIAE confirme le lancement, sur la base restaurée",
        )
        assert answer.outcome == "enregistré (approuver)"
        assert api.wait_state(api.stage_run(projet_id, 6), {"COMPLETED"}, timeout=240) == "COMPLETED"
        with session_scope(restored_engine) as session:
            launched = session.get(ImplantationProject, projet_id)
            assert launched is not None and launched.status == ProjectStatus.LAUNCHED
        final = _siae(
            {**common, "SIAE_DATABASE_URL": restored, "SIAE_DATA_DIR": str(machine_b / "data")},
            "journal",
            "verifier",
        )
        assert final.returncode == 0, final.stdout + final.stderr
    finally:
        restored_engine.dispose()
        engine.dispose()
        api.close()
