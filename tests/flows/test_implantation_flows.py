"""The six stages on a real Prefect server: gates answered through the resume API, as the UI does."""

import json
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from docx import Document
from postgres_server import DATABASES
from sqlmodel import col, select

from flows.gates import stage_choice
from flows.harness.local import flow_processes, forkserver_processes
from flows.harness.person import sample_identities
from flows.harness.scenario import full_implantation, gate
from implantation.db.journal import verify
from implantation.db.models import (
    DocumentRecord,
    FactChange,
    ImplantationProject,
    NotificationRecord,
    StageRecord,
    TransitionLog,
)
from implantation.db.session import session_scope
from implantation.documents.render import find_soffice
from implantation.enums import ProjectStatus, StageStatus
from implantation.keys import stage_attempt_key
from tests.documents.test_documents_pdf import pdfa_identification
from tests.flow_stack import STOCK, FlowStack

pytestmark = pytest.mark.prefect

FINAL_STATES = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}
NEEDLES = [v for identity in sample_identities() for v in identity]


def _logs(fs: FlowStack, projet_id: int) -> list[TransitionLog]:
    with session_scope(fs.engine) as session:
        return list(
            session.exec(
                select(TransitionLog)
                .where(TransitionLog.project_id == projet_id)
                .order_by(col(TransitionLog.id))
            )
        )


def _notifications(fs: FlowStack, projet_id: int) -> list[NotificationRecord]:
    with session_scope(fs.engine) as session:
        return list(
            session.exec(select(NotificationRecord).where(NotificationRecord.project_id == projet_id))
        )


def _executed(fs: FlowStack, run_id: str, timeout: float = 60) -> Counter[str]:
    """Task runs that really ran (not served from the persisted cache), per task name.

    Counted from the run's logs, where a late one cannot arrive: each execution logs « Finished in state
    Completed() » (a cached one « Cached(…) »), a run's process sends its logs before it exits, and the
    server stores them as it receives them. So once the run is over and none of its processes remains,
    every execution is there. Prefect's task-run records, built from events asynchronously, only give the
    names: they are waited for.
    """
    assert fs.api.wait_state(run_id, FINAL_STATES, timeout=timeout) == "COMPLETED"
    _wait_no_flow_process(fs, timeout)
    executed = {
        log["task_run_id"]
        for log in fs.api.logs([run_id])
        if log.get("task_run_id") and log["message"] == "Finished in state Completed()"
    }
    deadline = time.monotonic() + timeout
    while True:
        names = {str(r["id"]): str(r["name"]) for r in fs.api.task_runs(run_id)}
        if executed <= names.keys():
            return Counter(names[task_run].rsplit("-", 1)[0] for task_run in executed)
        assert time.monotonic() < deadline, f"tâches exécutées non enregistrées : {executed - names.keys()}"
        time.sleep(0.3)


def _wait_no_flow_process(fs: FlowStack, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while alive := flow_processes(fs.runner_pid):
        assert time.monotonic() < deadline, f"processus d'exécution encore présents : {alive}"
        time.sleep(0.3)


def _project_events(fs: FlowStack, projet_id: int, until: str, timeout: float = 60) -> list[dict]:
    """Prefect stores events asynchronously: the run's last event may land a moment after the run ends."""
    deadline = time.monotonic() + timeout
    while True:
        events = [
            e
            for e in fs.api.events("siae.")
            if e["resource"]["prefect.resource.id"] == f"siae.implantation.{projet_id}"
        ]
        if any(e["event"] == until for e in events):
            return events
        assert time.monotonic() < deadline, f"événement « {until} » absent après {timeout:.0f} s"
        time.sleep(1)


def _prefect_text(fs: FlowStack) -> str:
    """Everything Prefect keeps that a person could read: runs, parameters, logs, artifacts, events, inputs."""
    api = fs.api
    runs = api.flow_runs()
    parts = [json.dumps(runs, ensure_ascii=False)]
    for run in runs:
        parts.append(json.dumps(api.task_runs(run["id"]), ensure_ascii=False))
        parts.append(
            json.dumps(
                api.post(f"/flow_runs/{run['id']}/input/filter", {"prefix": "", "limit": 200}),
                ensure_ascii=False,
            )
        )
    parts.append(json.dumps(api.logs(), ensure_ascii=False))
    parts.append(json.dumps(api.artifacts(), ensure_ascii=False))
    parts.append(json.dumps(api.events(""), ensure_ascii=False))
    return "\n".join(parts)


def _stored_results(fs: FlowStack) -> str:
    folder = Path(fs.stack.env["PREFECT_LOCAL_STORAGE_PATH"])
    return "\n".join(
        p.read_bytes().decode("utf-8", errors="replace") for p in folder.rglob("*") if p.is_file()
    )


@pytest.mark.parametrize(
    "flow_stack",
    [
        "sqlite",
        pytest.param("postgresql", marks=pytest.mark.postgres),
        # Prefect as released (SIAE_PREFECT_TUNING=0): the product needs none of the runtime's patches.
        pytest.param(STOCK, id="prefect-d-origine"),
    ],
    indirect=True,
)
def test_full_implantation_through_six_gates(flow_stack: FlowStack) -> None:
    fs = flow_stack
    driver = fs.driver()
    # The lead exports the pack as PDF/A before the signatures (once: LibreOffice is slow on two cores).
    driver.pdf = fs.backend == "sqlite" and not fs.stock and find_soffice(None) is not None
    projet_id = driver.start()
    launch_on = full_implantation(driver, projet_id)

    with session_scope(fs.engine) as session:
        project = session.get(ImplantationProject, projet_id)
        assert project is not None
        assert project.status == ProjectStatus.LAUNCHED and project.launch_date == launch_on
        stages = session.exec(select(StageRecord).where(StageRecord.project_id == projet_id)).all()
        assert {s.stage: s.status for s in stages} == dict.fromkeys(range(1, 7), StageStatus.VALIDATED)
        documents = session.exec(select(DocumentRecord).where(DocumentRecord.project_id == projet_id)).all()
    reference = project.reference

    # Every decision logged once: six approvals, one rejection, four refusals (role, code, ETTI, August); and
    # the creation, under the key of the run that created the project.
    rows = _logs(fs, projet_id)
    decisions = Counter((r.transition, r.accepted) for r in rows if r.idempotency_key)
    assert decisions == {
        ("creer", True): 1,
        ("approuver", True): 6,
        ("rejeter", True): 1,
        ("refus_approuver", False): 3,
        ("refus_code", False): 1,
    }
    refusals = [r.reason or "" for r in rows if not r.accepted]
    assert "cette décision revient à" in refusals[0] and "SPIP" in refusals[0]
    assert "le code reçu par courriel ne correspond pas" in refusals[1]
    assert "ACI" in refusals[2] or "implant" in refusals[2]
    assert "Congés d'été" in refusals[3]
    rejection = next(r for r in rows if r.transition == "rejeter")
    assert "retour sur investissement" in (rejection.reason or "")
    # The schema-invalid answer was refused by the server and the run kept waiting at the same gate:
    # the next answer used the same key, and only that one was logged.
    index = next(i for i, a in enumerate(driver.answers) if a.status == "REJECT")
    rejected, following = driver.answers[index], driver.answers[index + 1]
    assert following.key == rejected.key
    assert [r.transition for r in rows if r.idempotency_key == rejected.key] == ["refus_approuver"]

    # The refusal is shown in the re-asked form.
    run2 = fs.api.stage_run(projet_id, 2)
    inputs = fs.api.post(f"/flow_runs/{run2}/input/filter", {"prefix": "", "limit": 50})
    descriptions = " ".join(str(i["value"]) for i in inputs if "description" in i["key"])
    assert "La saisie précédente n'a pas été retenue" in descriptions

    # Documents: three project documents and a CEP with its annex per opérateur imported, each once.
    imported = len(sample_identities())
    assert Counter(d.kind.value for d in documents) == {
        "dui": 1,
        "convention": 1,
        "contrat_implantation": 1,
        "cep": imported,
        "annexe_cep": imported,
    }
    assert all(d.version == 1 for d in documents)
    # The demonstration's only fictitious amount is the establishment's AT/MP rate: the CEPs that use it carry
    # the header on every page and stayed unsigned (the scenario checked each signature was refused); every
    # other document is a real one, signed, with no banner.
    banner = "DOCUMENT DE DÉMONSTRATION : montants non réglementaires, ne pas signer"
    folder_docs = fs.data_dir / "documents" / reference
    for d in documents:
        headers = [
            p.text
            for section in Document(str(folder_docs / d.filename)).sections
            for p in section.header.paragraphs
        ]
        assert d.demonstration == (d.kind.value == "cep"), d.filename
        assert (banner in headers) == d.demonstration, d.filename
        assert (d.status.value == "brouillon") if d.demonstration else True
    if driver.pdf:
        # The export reused the drafts (still version 1, then signed) and wrote a PDF/A-2b of each.
        folder = Path(fs.stack.env["SIAE_DATA_DIR"]) / "documents" / reference
        assert all(d.pdf_filename for d in documents)
        cep = next(d for d in documents if d.kind.value == "cep")
        assert pdfa_identification(folder / str(cep.pdf_filename)) == ("2", "B")

    # E-mails: what the database records is exactly what the SMTP server received, once each.
    records = _notifications(fs, projet_id)
    received = [m for m in fs.sink.messages if reference in str(m["Subject"])]
    assert len(received) == len(records)
    assert len({str(m["Message-ID"]) for m in received}) == len(received)
    kinds = Counter(r.kind for r in records)
    assert kinds["ouverture_etape"] == 6 and kinds["decision"] == 7 and kinds["lancement"] == 1
    drafts = [m for m in received if "Projets de documents" in str(m["Subject"])]
    assert len(drafts) == 1
    assert sorted(a.get_filename() for a in drafts[0].iter_attachments()) == sorted(
        d.filename for d in documents if d.operateur_id is None
    )

    # Each stage run opened its stage once and decided once per answer it received.
    for etape in range(1, 7):
        answered = sum(1 for a in driver.answers if a.etape == etape and a.status == "ACCEPT")
        expected = {"lire-etape": 1, "notifier-ouverture": 1, "decider": answered}
        executed = _executed(fs, fs.api.stage_run(projet_id, etape))
        assert {name: executed[name] for name in expected} == expected

    # Progress in Prefect: artifacts and one event per transition.
    artifacts = [
        a for a in fs.api.artifacts() if (a.get("key") or "").startswith(f"implantation-{reference.lower()}")
    ]
    progress = [a for a in artifacts if a["type"] == "progress"]
    assert max(float(a["data"]) for a in progress) == 100.0
    assert any(a["type"] == "markdown" and "Activité lancée" in a["data"] for a in artifacts)
    events = _project_events(fs, projet_id, until="siae.implantation.lancee")
    names = Counter(e["event"] for e in events)
    assert names["siae.etape.approuvee"] == 6 and names["siae.etape.rejetee"] == 1
    assert names["siae.decision.refusee"] == 4 and names["siae.implantation.lancee"] == 1

    # No personal data of an opérateur anywhere in Prefect, nor in its persisted task results; the CEPs
    # (kept in the documents directory) do contain them, which shows the search strings are right.
    cep = next(d for d in documents if d.kind.value == "cep")
    folder = fs.data_dir / "documents" / reference
    cep_text = "\n".join(p.text for p in Document(str(folder / cep.filename)).paragraphs) + "".join(
        c.text for t in Document(str(folder / cep.filename)).tables for row in t.rows for c in row.cells
    )
    assert any(n in cep_text for n in NEEDLES)
    prefect_text = _prefect_text(fs) + _stored_results(fs)
    assert [n for n in NEEDLES if n in prefect_text] == []
    # The search covers the gate forms' facts: the stage-3 budget lines and the stage-4 posts typed in their
    # forms are in Prefect (the runs' inputs), and in the application's database, logged with the approver's
    # address.
    assert "Vente de textiles triés" in prefect_text and "Équipement de l'atelier de tri" in prefect_text
    assert "Agent de conditionnement" in prefect_text
    with session_scope(fs.engine) as session:
        changes = session.exec(select(FactChange).where(FactChange.project_id == projet_id)).all()
    entered = {c.field: c for c in changes}
    assert entered["budget"].source == f"formulaire de l'étape 3 ({fs.ids.emails['direction.cp-varces']})"
    assert "Vente de textiles triés" in (entered["budget"].new_value or "")
    assert entered["postes"].source == f"formulaire de l'étape 4 ({fs.ids.emails['spip38']})"
    assert "Agent de conditionnement" in (entered["postes"].new_value or "")
    # No fact of the dossier was entered with the command; the opérateurs were, by the DISP lead, on the
    # posts typed at stage 4.
    assert all(
        (c.source or "").startswith("formulaire de l'étape") for c in changes if c.field != "operateur"
    )
    imported = [c for c in changes if c.field == "operateur"]
    assert len(imported) == len(sample_identities())
    assert {c.actor_id for c in imported} == {fs.ids.lead_id}

    if fs.prefect_database:
        # The production set-up: Prefect's own state is in PostgreSQL, not in SQLite under its home.
        with psycopg.connect(DATABASES.admin, dbname=fs.prefect_database) as conn:
            row = conn.execute(
                "SELECT count(*) FROM flow_run WHERE parameters->>'projet_id' = %s", (str(projet_id),)
            ).fetchone()
        assert row is not None and row[0] >= 6  # one run per stage at least


@pytest.mark.parametrize(
    "flow_stack", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
def test_send_back_restart_and_deadlines(flow_stack: FlowStack) -> None:
    fs = flow_stack
    d, e = fs.driver(), fs.ids.emails
    projet_id = d.start()
    d.stage_work(projet_id, 1)  # the COPILs and deliverables its approval requires
    d.answer(projet_id, 1, gate(e["disp.marseille"]), "DISP d'une autre interrégion")
    d.answer(projet_id, 1, gate("inconnu@exemple.gouv.test"), "adresse inconnue")
    d.answer(projet_id, 1, gate(e["cheffe.projet.disp"]), "DISP de Lyon")
    sourcing = {
        "siae_sourcees": [d.siae(fs.ids.siae_id)],
        "siae_retenue": d.siae(fs.ids.siae_id),
        "activite": "Tri de textiles",
    }
    d.stage_work(projet_id, 2)
    d.answer(projet_id, 2, gate(e["referent.dreets"], **sourcing), "sélection")
    refusals = [r.reason or "" for r in _logs(fs, projet_id) if not r.accepted]
    assert "territoire attendu : LYON" in refusals[0]
    assert refusals[1] == "approbateur inconnu"

    # While stage 3 waits, nothing runs: the run is suspended and the runner has no flow process, only
    # the forkserver that the next run will be forked from.
    run3, _ = d.wait_gate(projet_id, 3)
    assert fs.api.state(run3) == ("PAUSED", "Suspended")
    _wait_no_flow_process(fs)
    assert len(forkserver_processes(fs.runner_pid)) == 1

    # The runner restarts during the wait; the answers then complete the stage as if nothing happened.
    fs.stack.restart_runner(schedules=False)
    d.answer(
        projet_id,
        3,
        gate(e["spip38"], decision="renvoyer", etape_renvoi=stage_choice(fs.cfg, 2)),
        "renvoi sans motif",
    )
    d.answer(
        projet_id,
        3,
        gate(
            e["spip38"],
            decision="renvoyer",
            etape_renvoi=stage_choice(fs.cfg, 2),
            motif="La SIAE retenue n'a pas confirmé sa capacité d'encadrement.",
        ),
        "renvoi motivé",
    )
    assert fs.api.wait_state(run3, {"COMPLETED"}) == "COMPLETED"
    assert fs.api.flow_run(run3)["state"]["type"] == "COMPLETED"
    # Two answers decided, counted from the application's journal (Prefect records task runs late); the
    # tasks before the gate ran once, those of each ask once per ask.
    stage3 = stage_attempt_key(projet_id, 3, 1)
    decided = [r.transition for r in _logs(fs, projet_id) if (r.idempotency_key or "").startswith(stage3)]
    assert decided == ["refus_renvoyer", "renvoyer"]
    expected = {"lire-etape": 1, "notifier-ouverture": 1, "demander-decision": 2}
    executed = _executed(fs, run3)
    assert {name: executed[name] for name in expected} == expected

    rows = _logs(fs, projet_id)
    moved = [(r.stage, r.transition) for r in rows if r.transition in ("renvoyer", "rouvrir")]
    assert moved == [(3, "renvoyer"), (2, "rouvrir")]
    assert all(
        "capacité d'encadrement" in (r.reason or "") for r in rows if r.transition in ("renvoyer", "rouvrir")
    )
    assert "un motif est obligatoire" in next(r.reason for r in rows if r.transition == "refus_renvoyer")
    keys = [r.idempotency_key for r in rows if r.idempotency_key]
    assert len(keys) == len(set(keys))

    # Stage 2 reopens as attempt 2 with its own run; its opening e-mail gives the motive.
    d.answer(projet_id, 2, gate(e["referent.dreets"], **sourcing), "sélection confirmée", tentative=2)
    d.wait_gate(projet_id, 3, tentative=2)
    with session_scope(fs.engine) as session:
        reference = session.get(ImplantationProject, projet_id).reference  # type: ignore[union-attr]
    reopened = [m for m in fs.sink.messages if f"{reference} – Réouverture de l'étape 2" in str(m["Subject"])]
    assert len(reopened) == 1
    assert "capacité d'encadrement" in reopened[0].get_body().get_content()

    # Deadlines, swept by the scheduled deployment with an injected date.
    with session_scope(fs.engine) as session:
        record = session.exec(
            select(StageRecord).where(StageRecord.project_id == projet_id, StageRecord.stage == 3)
        ).one()
        due = record.due_on
        assert due is not None and record.attempt == 2

    def sweep(day) -> list[str]:  # type: ignore[no-untyped-def]
        run = fs.api.run_deployment("echeances/echeances", {"aujourdhui": day.isoformat()})
        fs.api.wait_state(run, {"COMPLETED"}, timeout=120)
        return sorted(
            n.dedup_key for n in _notifications(fs, projet_id) if n.dedup_key.startswith("echeance:")
        )

    assert sweep(due - timedelta(days=30)) == []
    reminder = [f"echeance:{projet_id}:3:2:rappel:0"]
    assert sweep(due - timedelta(days=3)) == reminder
    assert sweep(due - timedelta(days=1)) == reminder  # sent once
    first = [*reminder, f"echeance:{projet_id}:3:2:relance:0"]
    assert sorted(sweep(due + timedelta(days=1))) == sorted(first)
    assert sorted(sweep(due + timedelta(days=6))) == sorted(first)  # weekly: nothing new within the week
    assert sorted(sweep(due + timedelta(days=8))) == sorted([*first, f"echeance:{projet_id}:3:2:relance:1"])
    deadline_records = [r for r in _notifications(fs, projet_id) if r.kind in ("rappel", "relance")]
    with fs.engine.connect() as conn:
        head = verify(conn)
    published = [a for a in fs.api.artifacts() if a["key"] == "empreinte-journal"]
    assert head.ok and published and all(head.head_digest in a["data"] for a in published)
    assert len(deadline_records) == 3
    subjects = Counter(str(m["Subject"]) for m in fs.sink.messages)
    assert all(subjects[r.subject] == 1 for r in deadline_records)
