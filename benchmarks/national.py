"""The national load: N implantations taken through their six stages by a pool of people deciding at once.

``python -m benchmarks.national --projets 190 --postgresql postgresql://postgres@127.0.0.1:5432 [--personnes 12]``

Preparation (not timed): the implantations are started and wait at their first gate, and the work people
do over weeks is recorded with the ``siae`` commands: each stage's COPILs and deliverables, the facts of
stages 1, 3 and 4, the opérateurs. Then the clock starts: ``--personnes`` simulated people take the
projects whose gate waits, in turn; at stage 5 the parties sign the documents produced before the gate,
with the clock stopped (``_sign_all``); each decision is sent with the code read from the decider's
e-mail (SMTP sink), through the Resume API. ``--duree-max`` stops the people after that many minutes
(stock Prefect would take hours): the figures are then those of what was done.

Printed: wall time, transitions per minute, CPU and peak RSS of the Prefect server and of the runner (with
its flow processes), CPU of a local PostgreSQL server (all databases), p50/p95 from the click to the next
stage's run running (Prefect's own state history), and decisions lost (resume accepted, no decision row)
or duplicated (more than one accepted decision for a stage). Progress on stderr, figures on stdout.
"""

import queue
import re
import resource
import statistics
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import Progress
from sqlmodel import col, select

from benchmarks.bench_stack import (
    Unreachable,
    bench_sandbox,
    cpu_seconds,
    entered,
    load_average,
    machine_speed,
    postgres_pid,
    start_waiting,
    until,
    warn,
)
from flows.harness.api import PrefectApi, PrefectApiError
from flows.harness.local import LocalServiceError, auth_headers, tree_rss_bytes
from flows.harness.sandbox import Sandbox
from flows.harness.scenario import CODE_LINE, SCENARIO_TODAY, Driver, gate
from implantation.cli.common import FrenchArgumentParser
from implantation.config.loader import load_process_config
from implantation.db.models import ImplantationProject, TransitionLog
from implantation.db.session import session_scope
from implantation.keys import stage_attempt_key

MB = 1024 * 1024
STAGES = 6
# How often a simulated person looks whether a gate waits: a real one opens the e-mail's link minutes later.
# Polling every 0.2 to 0.5 s, as the tests do, made the people's reads the server's busiest route (py-spy:
# 6 % of its samples in ``read_flow_run`` with twelve people), a load no real user puts on it.
POLL = 1.0
CHECKLIST = {"locaux_amenages": True, "interlocuteurs_nommes": True, "protocole_sortie": True}


@dataclass
class Click:
    projet_id: int
    etape: int
    run_id: str
    key: str
    at: float  # epoch seconds, as Prefect's timestamps
    status: str


class Peaks(threading.Thread):
    """RSS of the server and runner trees, sampled every second."""

    def __init__(self, server_pid: int, runner_pid: int) -> None:
        super().__init__(daemon=True)
        self.pids = (server_pid, runner_pid)
        self.peak = [0, 0]
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            for i, pid in enumerate(self.pids):
                self.peak[i] = max(self.peak[i], tree_rss_bytes(pid))
            self.stopping.wait(1.0)


REQUEST = re.compile(r"(\S+) – (?:Décision attendue|Votre code de décision) – étape (\d+),")


class Mailbox:
    """Each decider's code as their e-mail gives it (``Driver.received_code``), indexed as the messages
    arrive: looking each one up again parsed the headers of the whole mailbox, thousands of messages at
    the scale of the country."""

    def __init__(self, box: Sandbox) -> None:
        self.box = box
        self.seen = 0
        self.codes: dict[tuple[str, int], list[tuple[str, str]]] = {}
        self.references: dict[int, str] = {}
        self.lock = threading.Lock()

    def code(self, projet_id: int, etape: int, email: str) -> str:
        with self.lock:
            if projet_id not in self.references:
                with session_scope(self.box.engine) as session:
                    project = session.get(ImplantationProject, projet_id)
                    assert project is not None
                    self.references[projet_id] = project.reference
            messages = self.box.sink.messages
            for message in messages[self.seen :]:
                request = REQUEST.search(str(message["Subject"]))
                body = message.get_body(preferencelist=("plain",)) if request else None
                code = CODE_LINE.search(str(body.get_content())) if body else None
                if request and code:
                    key = (request.group(1), int(request.group(2)))
                    self.codes.setdefault(key, []).append((str(message["To"]).lower(), code.group(1)))
            self.seen = len(messages)
            received = self.codes.get((self.references[projet_id], etape), [])
            return next((code for to, code in reversed(received) if email.lower() in to), "")


class People:
    """The people of every project, ``width`` of them acting at the same time."""

    def __init__(self, box: Sandbox, driver: Driver, count: int, launch_on: Any) -> None:
        self.box, self.driver, self.count, self.launch_on = box, driver, count, launch_on
        self.todo: queue.Queue[tuple[int, int] | None] = queue.Queue()
        self.clicks: list[Click] = []
        self.failures: list[str] = []
        self.finished = 0
        self.lock = threading.Lock()
        self.terminal = threading.Lock()  # the ``siae`` commands share process-wide state (CliRunner)
        self.done = threading.Event()
        self.halted = threading.Event()  # ``--duree-max`` reached: nobody takes a new gate
        # Projects whose stage-5 gate waits for the parties' signatures, and those signed (see ``_sign_all``).
        self.parked: list[int] = []
        self.signed: set[int] = set()
        self.sourcing: dict[str, Any] = {}
        self.keys: dict[tuple[int, int], str] = {}
        self.mailbox = Mailbox(box)

    def payload(self, etape: int) -> dict[str, Any]:
        d, e = self.driver, self.driver.email
        if etape == 1:
            return gate(e("cheffe.projet.disp"))
        if etape == 2:
            return gate(e("referent.dreets"), siae_retenue=d.siae(d.ids.siae_id), **self.sourcing)
        if etape == 3:
            return gate(e("direction.cp-varces"))
        if etape == 4:
            return gate(e("spip38"))
        if etape == 5:
            return gate(e("referent.dreets"))
        return {**gate(e("direction.laremise"), date_lancement=self.launch_on.isoformat()), **CHECKLIST}

    def act(self, api: PrefectApi, projet_id: int, etape: int) -> None:
        if etape > 1:
            previous = self.driver.outcome(self.keys[(projet_id, etape - 1)], timeout=900, poll=POLL)
            if not previous.startswith("enregistré"):
                self.failures.append(f"projet {projet_id}, étape {etape - 1} : décision {previous}")
                self.finish()
                return
        run_id = api.stage_run(projet_id, etape, timeout=900, poll=POLL)
        details = api.wait_paused(run_id, None, timeout=900, poll=POLL)
        if etape == 5 and projet_id not in self.signed:
            with self.lock:
                self.parked.append(projet_id)  # back once the parties have signed, off the clock
            return
        payload = self.payload(etape)
        payload["code"] = self.mailbox.code(projet_id, etape, str(payload["approbateur"]))
        at = time.time()
        try:
            status = str(api.resume(run_id, payload).get("status"))
        except PrefectApiError as exc:
            status = str(exc)[:120]
        with self.lock:
            self.clicks.append(Click(projet_id, etape, run_id, str(details.get("pause_key")), at, status))
            self.keys[(projet_id, etape)] = str(details.get("pause_key"))
        if status != "ACCEPT":
            self.failures.append(f"projet {projet_id}, étape {etape} : {status}")
            self.finish()
        elif etape < STAGES:
            self.todo.put((projet_id, etape + 1))
        else:
            self.finish()

    def all_parked(self) -> bool:
        """Every project still going waits at its stage-5 gate for the parties' signatures."""
        with self.lock:
            return bool(self.parked) and len(self.parked) + self.finished == self.count

    def finish(self) -> None:
        with self.lock:
            self.finished += 1
            if self.finished == self.count:
                self.done.set()

    def worker(self) -> None:
        api = PrefectApi(self.box.stack.api_url, timeout=120, headers=auth_headers(self.box.stack.env))
        try:
            while not self.done.is_set() and not self.halted.is_set():
                try:
                    item = self.todo.get(timeout=1.0)
                except queue.Empty:
                    continue
                if item is None or self.halted.is_set():
                    return
                try:
                    self.act(api, *item)
                except Exception as exc:  # counted and shown; the other people carry on
                    self.failures.append(f"projet {item[0]}, étape {item[1]} : {type(exc).__name__} {exc}")
                    self.finish()
        finally:
            api.close()


class _OffClock:
    """Time and CPU spent while the clock is stopped, taken off the figures."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.cpu = [0.0, 0.0, 0.0, 0.0]  # server, runner, PostgreSQL, this process

    @contextmanager
    def clock_stopped(self, server: int, runner: int, database: int | None) -> Iterator[None]:
        def sample() -> list[float]:
            own = resource.getrusage(resource.RUSAGE_SELF)
            return [
                cpu_seconds(server),
                cpu_seconds(runner),
                cpu_seconds(database) if database else 0.0,
                own.ru_utime + own.ru_stime,
            ]

        before, t = sample(), time.monotonic()
        try:
            yield
        finally:
            self.seconds += time.monotonic() - t
            self.cpu = [c + b - a for c, a, b in zip(self.cpu, before, sample(), strict=True)]


def _sign_all(people: "People", progress: Progress) -> None:
    """The parties sign every project's stage-5 drafts, then the people come back to those gates.

    Signing is the parties' work, on their own machines and over days: a PDF/A export and a certificate
    signature per document and signer (the exports are made first here, 20 projects per LibreOffice
    pass, as ``siae documents signer`` makes each one). Done at the click, on the two cores of the
    measure and one at a time (the ``siae`` commands share process-wide state), stage 5 advanced by
    about one project a minute, some three hours for 190 projects: the run measured LibreOffice, not
    the orchestration. So it happens with the clock stopped, once every project waits at that gate,
    like the pilots' weeks of work recorded before the clock starts.
    """
    with people.lock:
        waiting = sorted(people.parked)
    exporting = progress.add_task("PDF/A des projets à signer (hors chronomètre)", total=len(waiting))
    for first in range(0, len(waiting), 20):  # one LibreOffice pass for 20 projects (60 documents)
        batch = waiting[first : first + 20]
        people.driver.export_drafts(batch)
        progress.advance(exporting, len(batch))
    signing = progress.add_task("Signatures des parties (hors chronomètre)", total=len(waiting))
    for projet_id in waiting:
        with people.terminal:
            people.driver.sign_drafts(projet_id)
        people.signed.add(projet_id)
        progress.advance(signing)
    for projet_id in waiting:
        people.todo.put((projet_id, 5))


def _prepare(driver: Driver, count: int, launch_on: Any, advance: Any) -> None:
    """Weeks of the pilots' work, recorded before the clock starts."""
    for projet_id in range(1, count + 1):
        for etape in range(1, STAGES + 1):
            driver.stage_work(projet_id, etape)
        for etape in (1, 3, 4):
            driver.enter_facts(projet_id, etape, launch_on)
        driver.import_operateurs(projet_id, launch_on)
        advance()


def _decision_rows(box: Sandbox) -> tuple[dict[tuple[int, int], list[str]], set[str]]:
    """Accepted gate decisions by project and stage (their keys), and the keys of every answer logged."""
    out: dict[tuple[int, int], list[str]] = {}
    with session_scope(box.engine) as session:
        rows = session.exec(
            select(
                TransitionLog.project_id,
                TransitionLog.stage,
                TransitionLog.idempotency_key,
                TransitionLog.accepted,
            ).where(col(TransitionLog.idempotency_key).like("projet-%-saisie-%"))
        ).all()
    for project_id, stage, key, accepted in rows:
        if accepted and stage is not None and key and key.startswith(stage_attempt_key(project_id, stage, 1)):
            out.setdefault((project_id, stage), []).append(key)
    return out, {key for _p, _s, key, _a in rows if key}


def _latencies(api: PrefectApi, clicks: list[Click]) -> list[float]:
    """Click → the next stage's run running, from Prefect's state history."""
    out = []
    for click in clicks:
        if click.status != "ACCEPT" or click.etape == STAGES:
            continue
        try:
            nxt = api.stage_run(click.projet_id, click.etape + 1, timeout=5)
        except PrefectApiError:
            continue
        running = entered(api, nxt, "RUNNING", click.at)
        if running is not None:
            out.append(running - click.at)
    return out


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))]


def _measure(
    box: Sandbox,
    backend: str,
    count: int,
    width: int,
    starts: int,
    database: int | None = None,
    limit: float | None = None,
) -> int:
    cfg = load_process_config(Path(box.stack.env["SIAE_CONFIG_DIR"]))
    driver = Driver(box.api, box.engine, cfg, box.ids, sink=box.sink, app_env=box.stack.env)
    launch_on = driver.launch_date(driver.today + timedelta(days=60))
    console = Console(stderr=True)
    with Progress(console=console, transient=True) as progress:
        boot = progress.add_task("Démarrage du serveur Prefect et du runner", total=None)
        box.stack.start(schedules=False)
        progress.update(boot, total=1, completed=1)
        started = progress.add_task("Implantations démarrées", total=count)
        t_start = time.monotonic()
        start_waiting(box, count, starts, lambda: progress.advance(started))
        start_seconds = time.monotonic() - t_start
        prepared = progress.add_task("Travail des pilotes (COPIL, livrables, dossier)", total=count)
        _prepare(driver, count, launch_on, lambda: progress.advance(prepared))
        people = People(box, driver, count, launch_on)
        people.sourcing = {
            "siae_sourcees": [driver.siae(box.ids.siae_id), driver.siae(box.ids.other_siae_id)],
            "activite": "Tri de textiles",
        }
        server, runner = box.stack.service("serveur-prefect").pid, box.stack.service("runner").pid
        load_before, speed_before = load_average(), machine_speed()
        peaks = Peaks(server, runner)
        peaks.start()
        cpu0 = (cpu_seconds(server), cpu_seconds(runner), resource.getrusage(resource.RUSAGE_SELF))
        db0 = cpu_seconds(database) if database else 0.0
        off = _OffClock()
        t0 = time.monotonic()
        for projet_id in range(1, count + 1):
            people.todo.put((projet_id, 1))
        decided = progress.add_task("Décisions", total=count * STAGES)
        workers = [threading.Thread(target=people.worker, daemon=True) for _ in range(width)]
        for worker in workers:
            worker.start()
        while not people.done.wait(1.0):
            progress.update(decided, completed=len(people.clicks))
            if not people.signed and people.all_parked():
                with off.clock_stopped(server, runner, database):
                    _sign_all(people, progress)
            if limit is not None and time.monotonic() - t0 - off.seconds >= limit:
                people.halted.set()  # the people's clicks under way are sent; nobody starts another
                break
        # The last stages end (launch e-mails, progress) before the clock stops.
        until(
            lambda: all(
                box.api.state(c.run_id)[0] in {"COMPLETED", "FAILED", "CRASHED"}
                for c in people.clicks
                if c.etape == STAGES
            ),
            timeout=900,
            poll=1.0,
        )
        if people.halted.is_set():
            for worker in workers:
                worker.join(timeout=900)
            with people.lock:
                sent = [c for c in people.clicks if c.status == "ACCEPT"]
            # What the people clicked before the limit is written before it is counted, lost or not.
            until(lambda: len(_decision_rows(box)[0]) >= len(sent), timeout=900, poll=2.0)
        wall = time.monotonic() - t0 - off.seconds
        load_after, speed_after = load_average(), machine_speed()
        cpu1 = (cpu_seconds(server), cpu_seconds(runner), resource.getrusage(resource.RUSAGE_SELF))
        db1 = cpu_seconds(database) if database else 0.0
        peaks.stopping.set()
        for _ in workers:
            people.todo.put(None)
        progress.add_task("Lecture des mesures dans l'historique Prefect", total=None)
        latencies = _latencies(box.api, people.clicks)
        rows, logged = _decision_rows(box)

    accepted = [c for c in people.clicks if c.status == "ACCEPT"]
    lost = sum(1 for c in accepted if c.key not in logged)
    duplicates = sum(len(keys) - 1 for keys in rows.values() if len(keys) > 1)
    transitions = sum(len(keys) for keys in rows.values())
    own = (cpu1[2].ru_utime + cpu1[2].ru_stime) - (cpu0[2].ru_utime + cpu0[2].ru_stime) - off.cpu[3]
    statuses = Counter(c.status for c in people.clicks)
    print(f"Base du serveur Prefect et de l'application : {backend}")
    print(f"Charge de la machine (1/5/15 min) : {load_before} au départ, {load_after} à la fin")
    print(
        "Vitesse de la machine (boucle Python de 10⁷ additions, temps CPU, la meilleure de 3) : "
        f"{speed_before:.2f} s au départ, {speed_after:.2f} s à la fin".replace(".", ",")
    )
    print(f"Démarrage des {count} implantations (non chronométré) : {start_seconds / 60:.1f} min")
    print(f"Personnes simultanées : {width} ; réponses du serveur : {dict(statuses)}")
    print(
        f"Signatures des parties à l'étape 5 (non chronométrées, comme le travail des pilotes) : "
        f"{len(people.signed)} projets en {off.seconds / 60:.1f} min"
    )
    if people.halted.is_set():
        print(
            f"Mesure arrêtée à la limite de {(limit or 0) / 60:.0f} min (--duree-max) : {transitions} transitions "
            f"sur {count * STAGES}, {len([c for c in accepted if c.etape == STAGES])} projets sur {count} "
            "menés au bout ; les chiffres ci-dessous portent sur ce qui a été fait, décisions en cours comprises."
        )
    print(f"Durée : {wall / 60:.1f} min ; {transitions / (wall / 60):.0f} transitions par minute")
    print(
        f"CPU : serveur Prefect {cpu1[0] - cpu0[0] - off.cpu[0]:.0f} s, "
        f"runner et exécutions {cpu1[1] - cpu0[1] - off.cpu[1]:.0f} s, "
        f"personnes simulées {own:.0f} s"
        + (f", PostgreSQL (toutes bases) {db1 - db0 - off.cpu[2]:.0f} s" if database else "")
        + f" (2 cœurs : {2 * wall:.0f} s disponibles)"
    )
    print(f"RSS maximale : serveur Prefect {peaks.peak[0] / MB:.0f} Mo, runner {peaks.peak[1] / MB:.0f} Mo")
    if latencies:
        print(
            f"Clic → étape suivante en cours ({len(latencies)} mesures) : p50 {statistics.median(latencies):.2f} s, "
            f"p95 {_pct(latencies, 0.95):.2f} s, max {max(latencies):.2f} s"
        )
    for failure in people.failures[:10]:
        print(f"  échec : {failure}")
    line = (
        f"{count} projets, {transitions} transitions en {wall / 60:.1f} min ; "
        f"décisions perdues : {lost} ; doublons : {duplicates}"
    )
    print(line.replace(f"{wall / 60:.1f}", f"{wall / 60:.1f}".replace(".", ",")))
    complete = not people.halted.is_set()
    return 0 if complete and not lost and not duplicates and not people.failures else 1


def main(argv: list[str] | None = None) -> int:
    parser = FrenchArgumentParser(description="Charge nationale : N implantations, six étapes chacune.")
    parser.add_argument("--projets", type=int, default=190, help="Implantations menées de bout en bout")
    parser.add_argument(
        "--postgresql",
        default=None,
        help="Serveur PostgreSQL pour le serveur Prefect et l'application, ex. "
        "postgresql://postgres@127.0.0.1:5432 (bases temporaires) ; SQLite par défaut",
    )
    parser.add_argument("--personnes", type=int, default=12, help="Personnes décidant en même temps")
    parser.add_argument(
        "--demarrages", type=int, default=None, help="Démarrages simultanés (1 sur SQLite, 4 sur PostgreSQL)"
    )
    parser.add_argument(
        "--duree-max",
        type=float,
        default=None,
        help="Minutes de mesure au plus : passé ce délai, aucune nouvelle décision n'est prise et les "
        "chiffres portent sur ce qui a été fait (pour Prefect d'origine, SIAE_PREFECT_TUNING=0)",
    )
    args = parser.parse_args(argv)
    if args.projets < 1 or args.personnes < 1:
        parser.error("--projets et --personnes doivent valoir au moins 1")
    if args.duree_max is not None and args.duree_max <= 0:
        parser.error("--duree-max doit être positive")
    starts = args.demarrages or (4 if args.postgresql else 1)
    try:
        with bench_sandbox(args.postgresql, today=SCENARIO_TODAY, demo_amounts=True) as (box, backend):
            database = postgres_pid(args.postgresql) if args.postgresql else None
            limit = args.duree_max * 60 if args.duree_max is not None else None
            return _measure(box, backend, args.projets, args.personnes, starts, database, limit)
    except (Unreachable, LocalServiceError) as exc:
        warn(str(exc))
        return 1


if __name__ == "__main__":
    sys.exit(main())
