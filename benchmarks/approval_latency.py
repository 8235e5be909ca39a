"""Approval latency and memory held while implantations wait, on a local Prefect server and runner.

``python -m benchmarks.approval_latency [--attentes 20] [--mesures 10] [--postgresql URL] [--comparer]``

The Prefect server keeps its state in SQLite by default (the embedded set-up); ``--postgresql
postgresql://postgres@127.0.0.1:5432`` measures the production set-up instead, in a database created
for the run and dropped after it (stage runs are named after project ids, which restart at 1).

* memory: RSS of the Prefect server and of the runner (with its forkserver and any flow process),
  idle and then with N implantations waiting at their first gate (suspended: no process per run);
* latency: from the resume call to (a) the resumed run running again, (b) the decision recorded with
  the next stage open in the application database (the record of truth), (c) the next stage's own run
  running, and (d) that run waiting at its gate, its form ready; median and maximum over the measured
  approvals (sequential, as people click).

``--comparer`` measures, in one run and on one server database, each set of the runtime's patches of
Prefect (:mod:`flows.runtime.tuning`): all on, all off (stock Prefect), then all on but one, for each
patch (``--sauf`` leaves some of those out: a reduced plan). The server and the runner are restarted
with that set, ``--mesures`` new implantations are brought to their first gate (``--attentes`` for the
first set, which leaves the others waiting), and their approvals are measured as above. It prints one table: per set, the median of
« resume → next stage running » and the CPU per approval (server, runner and runs), and each patch's
gain (all on but that one, minus all on).

The moments are read afterwards from what the systems recorded: the state history Prefect keeps for
each run, and the decision's row in the transition log. Polling the server twenty times a second to
spot them, as a first version did, loaded the very server being measured and added up to half a
second of detection delay.
"""

import os
import platform
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

import httpx
import psycopg
from rich.console import Console
from rich.progress import Progress
from sqlmodel import func, select

from benchmarks.bench_stack import cpu_seconds, load_average
from flows.harness.api import PrefectApi
from flows.harness.local import LocalServiceError, LocalStack, flow_processes, tree_rss_bytes
from flows.harness.person import Terminal, record_stage_work
from flows.harness.sandbox import Sandbox, sandbox
from flows.harness.scenario import Driver, gate
from flows.runtime import tuning
from implantation import dates
from implantation.cli.common import FrenchArgumentParser
from implantation.config.loader import load_process_config
from implantation.db.models import Establishment, ImplantationProject, Person, StageRecord, TransitionLog
from implantation.db.session import session_scope
from implantation.db.throwaway import ThrowawayDatabases
from implantation.enums import StageStatus
from implantation.keys import gate_key
from implantation.services import choices
from implantation.settings import PROJECT_ROOT

MB = 1024 * 1024


def _until(predicate, timeout: float = 120, poll: float = 0.05) -> float:  # type: ignore[no-untyped-def]
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if predicate():
            return time.monotonic()
        time.sleep(poll)
    raise TimeoutError("délai dépassé")


def _decided_at(engine, projet_id: int) -> float:  # type: ignore[no-untyped-def]
    """When stage 1's decision was written, with stage 2 opened in the same transaction."""
    with session_scope(engine) as session:
        row = session.exec(
            select(TransitionLog).where(TransitionLog.idempotency_key == gate_key(projet_id, 1, 1, 1))
        ).one()
        record = session.exec(
            select(StageRecord).where(StageRecord.project_id == projet_id, StageRecord.stage == 2)
        ).one()
        assert row.accepted and record.status == StageStatus.OPEN, (row.transition, record.status)
        at = row.at if row.at.tzinfo else row.at.replace(tzinfo=UTC)
        return at.timestamp()


def _entered(api: PrefectApi, flow_run_id: str, state_type: str, after: float) -> float:
    """When the run entered that state for the first time after ``after`` (Prefect's own timestamps)."""
    times = [
        datetime.fromisoformat(state["timestamp"].replace("Z", "+00:00")).timestamp()
        for state in api.get(f"/flow_run_states/?flow_run_id={flow_run_id}")
        if state["type"] == state_type
    ]
    return min(t for t in times if t >= after)


def _created(api: PrefectApi, flow_run_id: str) -> float:
    stamp = api.get(f"/flow_runs/{flow_run_id}")["created"]
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def _median_max(label: str, values: list[float]) -> None:
    print(f"{label} : médiane {statistics.median(values):.2f} s, max {max(values):.2f} s")


def _memory(stack: LocalStack) -> tuple[float, float, int]:
    server, runner = stack.service("serveur-prefect"), stack.service("runner")
    return tree_rss_bytes(server.pid) / MB, tree_rss_bytes(runner.pid) / MB, len(flow_processes(runner.pid))


def main(argv: list[str] | None = None) -> int:
    parser = FrenchArgumentParser(description="Latence d'approbation et mémoire en attente.")
    parser.add_argument("--attentes", type=int, default=20, help="Implantations en attente simultanée")
    parser.add_argument("--mesures", type=int, default=10, help="Approbations mesurées (≤ attentes)")
    parser.add_argument(
        "--postgresql",
        default=None,
        help="Serveur PostgreSQL pour la base du serveur Prefect, ex. postgresql://postgres@127.0.0.1:5432 "
        "(une base temporaire y est créée) ; SQLite par défaut",
    )
    parser.add_argument(
        "--pause",
        type=float,
        default=3.0,
        help="Secondes entre deux approbations, comme entre deux clics de personnes différentes (3 par défaut)",
    )
    parser.add_argument(
        "--comparer",
        action="store_true",
        help="Toutes les corrections, aucune (Prefect d'origine), puis toutes sauf une, pour chacune : un "
        "tableau des gains",
    )
    parser.add_argument(
        "--sauf",
        default="",
        help="Avec --comparer : corrections dont la ligne « toutes sauf » n'est pas mesurée (plan réduit)",
    )
    args = parser.parse_args(argv)

    if not 1 <= args.mesures <= args.attentes or args.attentes < 1:
        parser.error("il faut au moins une attente et 1 ≤ --mesures ≤ --attentes")
    if args.pause < 0:
        parser.error("--pause doit être un nombre de secondes positif ou nul")
    server = ThrowawayDatabases(args.postgresql) if args.postgresql else None
    prefect_db = None
    if server:
        try:
            prefect_db = server.create("siae_bench")
        except psycopg.Error as exc:
            print(
                f"PostgreSQL injoignable ({args.postgresql}) : {str(exc).strip().splitlines()[0]}",
                file=sys.stderr,
            )
            return 1
    base = Path(tempfile.mkdtemp(prefix="siae-bench-"))
    url = f"sqlite:///{base / 'siae.db'}"
    try:
        with sandbox(
            base,
            url,
            base / "data",
            prefect_database_url=server.url(prefect_db, "postgresql+asyncpg")
            if server and prefect_db
            else None,
        ) as box:
            backend = "PostgreSQL" if prefect_db else "SQLite"
            if args.comparer:
                return _compare(
                    box, args.attentes, args.mesures, backend, args.pause, tuning.parse_off(args.sauf)
                )
            return _measure(box, args.attentes, args.mesures, backend, args.pause)
    except LocalServiceError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except httpx.TimeoutException as exc:
        # Seen with the SQLite server before its lock wait was shortened (see flows.runtime.server).
        print(f"Le serveur Prefect n'a pas répondu à temps ({exc}) : mesure interrompue.", file=sys.stderr)
        return 1
    finally:
        if server and prefect_db:
            server.drop(prefect_db)


@dataclass
class Round:
    """The moments of each measured approval, in seconds after its resume call, and the CPU spent."""

    resumed: list[float] = field(default_factory=list)
    recorded: list[float] = field(default_factory=list)
    created: list[float] = field(default_factory=list)
    pending: list[float] = field(default_factory=list)
    next_running: list[float] = field(default_factory=list)
    next_waiting: list[float] = field(default_factory=list)
    cpu_server: float = 0.0
    cpu_runner: float = 0.0
    load: str = ""


def _start_form(box: Sandbox) -> dict[str, str]:
    """The lead's choices as the run form lists them."""
    with session_scope(box.engine) as session:
        site, lead = (
            session.get(Establishment, box.ids.establishment_id),
            session.get(Person, box.ids.lead_id),
        )
        assert site is not None and lead is not None
        return {
            "etablissement": choices.establishment_label(site),
            "chef_de_projet": choices.lead_label(lead),
        }


def _last_project(engine) -> int:  # type: ignore[no-untyped-def]
    with session_scope(engine) as session:
        return int(session.exec(select(func.max(ImplantationProject.id))).one() or 0)


def _round(box: Sandbox, attentes: int, mesures: int, pause: float, progress: Progress) -> Round:
    """``attentes`` new implantations brought to their first gate one after the other, as leads start
    them, then the first ``mesures`` of them approved one after the other, as people click."""
    stack, api, ids, engine = box.stack, box.api, box.ids, box.engine
    # Each approver's code as the e-mail gives it.
    driver = Driver(api, engine, load_process_config(PROJECT_ROOT / "config"), ids, sink=box.sink)
    start_form = _start_form(box)
    started = progress.add_task("Implantations en attente", total=attentes)
    measured = progress.add_task("Approbations mesurées", total=mesures)
    # One start after the other: twenty at once is a load test, which on SQLite measures the server's lock
    # waits (see flows.runtime.server), not the approvals.
    waiting: list[tuple[int, str]] = []
    for _ in range(attentes):
        run = api.run_deployment("demarrer-implantation/demarrer-implantation", start_form)
        api.wait_state(run, {"COMPLETED"}, timeout=600)
        projet_id = _last_project(engine)
        waiting.append((projet_id, api.stage_run(projet_id, 1)))
        api.wait_state(waiting[-1][1], {"PAUSED"}, timeout=600)
        progress.advance(started)
    _until(lambda: not flow_processes(stack.service("runner").pid), timeout=60)
    time.sleep(pause)

    # What stage 1's approval requires (its COPILs and deliverables), typed as a lead would.
    cfg = load_process_config(PROJECT_ROOT / "config")
    terminal = Terminal(engine.url.render_as_string(hide_password=False), Path(tempfile.mkdtemp()))
    for projet_id, _run in waiting[:mesures]:
        record_stage_work(terminal, cfg, projet_id, 1, dates.today())
    out = Round()
    server_pid, runner_pid = stack.service("serveur-prefect").pid, stack.service("runner").pid
    cpu0, out.load = (cpu_seconds(server_pid), cpu_seconds(runner_pid)), load_average()
    for projet_id, run in waiting[:mesures]:
        email = ids.emails["cheffe.projet.disp"]
        code = driver.received_code(projet_id, 1, email)
        t0 = time.time()
        answer = api.resume(run, gate(email, code=code))
        assert answer["status"] == "ACCEPT", answer
        nxt = api.stage_run(projet_id, 2, timeout=120)
        api.wait_state(nxt, {"PAUSED"}, timeout=120)
        api.wait_state(run, {"COMPLETED"}, timeout=120)
        out.resumed.append(_entered(api, run, "RUNNING", t0) - t0)
        out.recorded.append(_decided_at(engine, projet_id) - t0)
        out.created.append(_created(api, nxt) - t0)
        out.pending.append(_entered(api, nxt, "PENDING", t0) - t0)
        out.next_running.append(_entered(api, nxt, "RUNNING", t0) - t0)
        out.next_waiting.append(_entered(api, nxt, "PAUSED", t0) - t0)
        _until(lambda: not flow_processes(stack.service("runner").pid), timeout=60)
        progress.advance(measured)
        time.sleep(pause)
    out.cpu_server = (cpu_seconds(server_pid) - cpu0[0]) / mesures
    out.cpu_runner = (cpu_seconds(runner_pid) - cpu0[1]) / mesures
    progress.remove_task(started)
    progress.remove_task(measured)
    return out


def _measure(box: Sandbox, attentes: int, mesures: int, backend: str, pause: float) -> int:
    stack = box.stack
    # The progress goes to stderr and vanishes at the end: stdout keeps only the figures.
    with Progress(console=Console(stderr=True), transient=True) as progress:
        boot = progress.add_task("Démarrage du serveur Prefect et du runner", total=None)
        stack.start(schedules=False)
        time.sleep(3)
        idle = _memory(stack)
        progress.update(boot, total=1, completed=1)
        figures = _round(box, attentes, mesures, pause, progress)
        waiting = _memory(stack)

    print(f"Base du serveur Prefect : {backend} ; charge de la machine (1/5/15 min) : {figures.load}")
    print(
        f"Mémoire au repos : serveur {idle[0]:.0f} Mo, runner {idle[1]:.0f} Mo ({idle[2]} processus de flow)"
    )
    print(
        f"Mémoire avec {attentes} implantations en attente : serveur {waiting[0]:.0f} Mo, "
        f"runner {waiting[1]:.0f} Mo, {waiting[2]} processus de flow ; total {waiting[0] + waiting[1]:.0f} Mo"
    )
    _median_max(f"Reprise → run repris en cours ({len(figures.resumed)} mesures)", figures.resumed)
    _median_max("Reprise → décision enregistrée, étape suivante ouverte en base", figures.recorded)
    _median_max("Reprise → run de l'étape suivante créé", figures.created)
    _median_max("Reprise → run de l'étape suivante confié au runner (Pending)", figures.pending)
    _median_max("Reprise → run de l'étape suivante en cours", figures.next_running)
    _median_max("Reprise → étape suivante en attente de décision (formulaire prêt)", figures.next_waiting)
    # Less sensitive than the delays to what else the machine runs (other processes on the two cores).
    print(
        f"CPU par approbation (moyenne) : serveur Prefect {figures.cpu_server:.2f} s, "
        f"runner et runs {figures.cpu_runner:.2f} s"
    )
    return 0


REFERENCE = "toutes (référence de la ligne suivante)"


def plan(skipped: frozenset[str] = frozenset()) -> list[tuple[str, frozenset[str]]]:
    """(label, patches on): all on, all off, then for each patch not in ``skipped`` all on again and all on
    but that one. Each « all but one » is compared with the « all on » measured just before it: on a shared
    machine the load and the number of waiting runs drift during the run, and a single reference taken at
    the start put that drift into every gain (a first run showed +1.7 to +2 s for patches that do nothing
    on PostgreSQL)."""
    every = frozenset(tuning.PATCHES)
    sets = [("toutes", every), ("aucune (Prefect d'origine)", frozenset())]
    for name in tuning.PATCHES:
        if name not in skipped:
            sets += [(REFERENCE, every), (f"toutes sauf {name}", every - {name})]
    return sets


def _compare(
    box: Sandbox, attentes: int, mesures: int, backend: str, pause: float, skipped: frozenset[str]
) -> int:
    stack = box.stack
    results: list[tuple[str, Round]] = []
    loads = [load_average()]
    with Progress(console=Console(stderr=True), transient=True) as progress:
        sets = plan(skipped)
        overall = progress.add_task("Jeux de corrections", total=len(sets))
        for number, (label, on) in enumerate(sets):
            stack.stop()
            stack.env.update(tuning.environment(on))
            stack.start(schedules=False)
            # The first set brings ``attentes`` implantations to their gate; each later one only those it
            # measures (the measured ones wait at stage 2's gate afterwards: the waiting runs only grow).
            new = attentes if number == 0 else mesures
            results.append((label, _round(box, new, mesures, pause, progress)))
            progress.advance(overall)
    loads.append(load_average())
    stack.stop()

    print(
        f"Date : {datetime.now(UTC):%Y-%m-%d %H:%M} UTC ; machine : {platform.node()}, "
        f"{platform.machine()}, {os.cpu_count()} cœurs, Python {platform.python_version()} ; "
        f"Prefect {version('prefect')}"
    )
    print(
        f"Base du serveur Prefect : {backend} ; {attentes} implantations en attente au premier jeu, "
        f"{attentes + mesures * (len(results) - 1)} au dernier ; {mesures} approbations mesurées par jeu, "
        f"une pause de {pause:.0f} s entre deux"
    )
    print(f"Charge de la machine (1/5/15 min) : au début {loads[0]}, à la fin {loads[1]}")
    print()
    print(
        "| Corrections | Reprise → étape suivante en cours (médiane, max) | CPU par transition "
        "(serveur + runner et runs) | Gain de la correction (délai, CPU) | Charge au début des mesures |"
    )
    print("|---|---|---|---|---|")
    for number, (label, figures) in enumerate(results):
        running = statistics.median(figures.next_running)
        cpu = figures.cpu_server + figures.cpu_runner
        # The « all on » just before: the first row for « none », the paired reference for « all but one ».
        reference = results[0 if label.startswith("aucune") else number - 1][1]
        ref_running = statistics.median(reference.next_running)
        ref_cpu = reference.cpu_server + reference.cpu_runner
        gain = "—"
        if label.startswith("toutes sauf"):
            gain = f"{running - ref_running:+.2f} s, {100 * (cpu - ref_cpu) / ref_cpu:+.0f} %"
        elif label.startswith("aucune"):
            gain = (
                f"toutes ensemble : {running - ref_running:+.2f} s, {100 * (cpu - ref_cpu) / ref_cpu:+.0f} %"
            )
        print(
            f"| {label} | {running:.2f} s ({max(figures.next_running):.2f} s) | "
            f"{cpu:.2f} s ({figures.cpu_server:.2f} + {figures.cpu_runner:.2f}) | {gain} | {figures.load} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
