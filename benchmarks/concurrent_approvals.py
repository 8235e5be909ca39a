"""Simultaneous approvals: a COPIL room deciding together, each person clicking « Reprendre » at once.

``python -m benchmarks.concurrent_approvals [--approbations 20] [--postgresql URL]``

N implantations are started and wait at their first gate, with the stage work their approval requires;
then N people, each with their own HTTP client (their own browser), send ``POST /flow_runs/{id}/resume``
at the same instant (a barrier), with the code read from their e-mail. Counted: resumes accepted, refused
with HTTP 503 after the client's retries, connections reset; then the decisions written in the application
database and the next stages waiting at their gate. Progress on stderr, figures on stdout.
"""

import re
import statistics
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
from rich.console import Console
from rich.progress import Progress
from sqlalchemy import func
from sqlmodel import col, select

from benchmarks.bench_stack import Unreachable, bench_sandbox, load_average, start_waiting, until, warn
from flows.harness.api import PrefectApi, PrefectApiError
from flows.harness.local import LocalServiceError, auth_headers
from flows.harness.person import Terminal, record_stage_work
from flows.harness.sandbox import Sandbox
from flows.harness.scenario import CODE_LINE, gate
from implantation import dates
from implantation.cli.common import FrenchArgumentParser
from implantation.config.loader import load_process_config
from implantation.db.models import ImplantationProject, TransitionLog
from implantation.db.session import session_scope
from implantation.keys import gate_key
from implantation.settings import PROJECT_ROOT

APPROVER = "cheffe.projet.disp"
REQUEST = re.compile(r"(\S+) – Décision attendue – étape 1,")  # the subject names the project's reference


def _resume_all(box: Sandbox, runs: list[str], codes: list[str], email: str) -> list[tuple[str, float]]:
    """Every resume sent at the same instant; (outcome, seconds until the answer) for each."""
    released: list[float] = []
    barrier = threading.Barrier(len(runs), action=lambda: released.append(time.monotonic()))
    results: list[tuple[str, float]] = [("", 0.0)] * len(runs)
    headers = auth_headers(box.stack.env)

    def person(i: int) -> None:
        api = PrefectApi(box.stack.api_url, timeout=120, headers=headers)
        try:
            barrier.wait()
            try:
                answer = api.resume(runs[i], gate(email, code=codes[i]))
                outcome = str(answer.get("status"))
            except PrefectApiError as exc:
                status = re.search(r"HTTP \d{3}", str(exc))  # the code, not a message cut in the middle
                outcome = status.group(0) if status else f"erreur API ({str(exc)[:80]})"
            except httpx.TransportError as exc:
                outcome = f"connexion : {type(exc).__name__}"
            results[i] = (outcome, time.monotonic() - released[0])
        finally:
            api.close()

    threads = [threading.Thread(target=person, args=(i,)) for i in range(len(runs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def _codes(box: Sandbox, count: int, email: str) -> list[str]:
    """Each project's stage-1 code as its e-mail gives it (``Driver.received_code``), read in one pass over
    the mailbox: one look-up per project parsed every message's headers again, minutes for 200 projects."""
    with session_scope(box.engine) as session:
        references = {
            p.id: p.reference
            for p in session.exec(select(ImplantationProject).where(col(ImplantationProject.id) <= count))
        }
    found: dict[str, str] = {}
    for message in box.sink.messages:
        request = REQUEST.search(str(message["Subject"]))
        if request and email.lower() in str(message["To"]).lower():
            body = message.get_body(preferencelist=("plain",))
            code = CODE_LINE.search(str(body.get_content()) if body else "")
            if code:
                found[request.group(1)] = code.group(1)  # the last request wins, as in a mailbox
    return [found.get(references.get(projet_id, ""), "") for projet_id in range(1, count + 1)]


def _decisions(box: Sandbox, count: int) -> tuple[int, int]:
    """Accepted decision rows of the stage-1 gates, and gate keys written more than once."""
    keys = [gate_key(projet_id, 1, 1, 1) for projet_id in range(1, count + 1)]
    with session_scope(box.engine) as session:
        rows = session.exec(
            select(TransitionLog.idempotency_key, func.count())
            .where(TransitionLog.idempotency_key.in_(keys))  # type: ignore[union-attr]
            .where(TransitionLog.accepted)
            .group_by(TransitionLog.idempotency_key)
        ).all()
    return len(rows), sum(1 for _key, n in rows if n > 1)


def _measure(box: Sandbox, backend: str, count: int, width: int, wait: float) -> int:
    cfg = load_process_config(PROJECT_ROOT / "config")
    email = box.ids.emails[APPROVER]
    with Progress(console=Console(stderr=True), transient=True) as progress:
        boot = progress.add_task("Démarrage du serveur Prefect et du runner", total=None)
        box.stack.start(schedules=False)
        progress.update(boot, total=1, completed=1)
        started = progress.add_task("Implantations en attente", total=count)
        runs = start_waiting(box, count, width, lambda: progress.advance(started))
        work = progress.add_task("COPIL et livrables de l'étape 1", total=count)
        terminal = Terminal(box.engine.url.render_as_string(hide_password=False), Path(box.stack.log_dir))
        for projet_id in range(1, count + 1):
            record_stage_work(terminal, cfg, projet_id, 1, dates.today())
            progress.advance(work)
        codes = _codes(box, count, email)
        assert all(codes), "code de décision absent d'un courriel"
        time.sleep(3)  # the runner and the server back to idle before the room decides
        load = load_average()
        progress.add_task(f"{count} approbations simultanées", total=None)
        t0 = time.monotonic()
        results = _resume_all(box, runs, codes, email)
        answered = max(seconds for _outcome, seconds in results)
        accepted = sum(1 for outcome, _ in results if outcome == "ACCEPT")
        recorded = progress.add_task("Décisions enregistrées", total=accepted)

        def all_recorded() -> bool:
            done, _dups = _decisions(box, count)
            progress.update(recorded, completed=done)
            return done >= accepted

        until(all_recorded, timeout=wait, poll=1.0)
        decided = time.monotonic() - t0
        done, duplicates = _decisions(box, count)
        ready = progress.add_task("Étapes 2 en attente de décision", total=done)
        pending = [p for p in range(1, count + 1)]

        def all_waiting() -> bool:
            pending[:] = [p for p in pending if not _stage_waits(box.api, p)]
            progress.update(ready, completed=count - len(pending))
            return count - len(pending) >= done

        until(all_waiting, timeout=wait, poll=2.0)
        waiting_next = count - len(pending)
        next_ready = time.monotonic() - t0

    outcomes = Counter(outcome for outcome, _ in results)
    seconds = [s for _, s in results]
    print(f"Base du serveur Prefect : {backend} ; charge de la machine (1/5/15 min) : {load}")
    print(f"{count} approbations simultanées : {accepted} acceptées par le serveur Prefect")
    for outcome, n in sorted(outcomes.items()):
        if outcome != "ACCEPT":
            print(f"  {outcome} : {n}")
    print(
        f"Réponse du serveur, depuis l'envoi simultané : médiane {statistics.median(seconds):.2f} s, "
        f"la dernière à {answered:.1f} s"
    )
    print(f"Décisions enregistrées en base : {done}/{accepted} en {decided:.1f} s ; doublons : {duplicates}")
    print(f"Étapes 2 en attente de décision (formulaire prêt) : {waiting_next}/{done} en {next_ready:.1f} s")
    return 0 if accepted == count and done == accepted and duplicates == 0 else 1


def _stage_waits(api: PrefectApi, projet_id: int) -> bool:
    try:
        run = api.stage_run(projet_id, 2, timeout=0.1)
        return api.state(run)[0] == "PAUSED"
    except PrefectApiError:
        return False


def main(argv: list[str] | None = None) -> int:
    parser = FrenchArgumentParser(description="Approbations simultanées (salle de COPIL).")
    parser.add_argument("--approbations", type=int, default=20, help="Approbations envoyées au même instant")
    parser.add_argument(
        "--postgresql",
        default=None,
        help="Serveur PostgreSQL pour le serveur Prefect et l'application, ex. "
        "postgresql://postgres@127.0.0.1:5432 (bases temporaires) ; SQLite par défaut",
    )
    parser.add_argument(
        "--demarrages",
        type=int,
        default=None,
        help="Implantations démarrées à la fois pendant la préparation (1 sur SQLite, 4 sur PostgreSQL)",
    )
    parser.add_argument(
        "--attente", type=float, default=900, help="Secondes accordées aux décisions (900 par défaut)"
    )
    args = parser.parse_args(argv)
    if args.approbations < 1:
        parser.error("--approbations doit être au moins 1")
    width = args.demarrages or (4 if args.postgresql else 1)
    try:
        with bench_sandbox(args.postgresql) as (box, backend):
            return _measure(box, backend, args.approbations, width, args.attente)
    except (Unreachable, LocalServiceError) as exc:
        warn(str(exc))
        return 1


if __name__ == "__main__":
    sys.exit(main())
