"""``python -m flows.harness.demo [--keep]`` (``make demo``): a whole implantation on this machine, then a summary.

Starts a Prefect server on a free loopback port (SQLite in the demo directory), an SMTP sink on loopback
and the runner; plays CP de Grenoble-Varces with La Remise (tri de textiles) through the six gates over
the UI's resume API, with a refusal, an invalid input and a rejection; then stops all it started. With
``--keep`` a second implantation waits at its first gate so that a person can answer it in the UI.
"""

import shutil
import signal
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from flows.harness.local import LocalServiceError, LocalStack
from flows.harness.sandbox import sandbox
from flows.harness.scenario import SCENARIO_TODAY, Driver, full_implantation
from flows.harness.smtp_sink import SmtpSink
from implantation.cli.common import FrenchArgumentParser, widen_piped_output
from implantation.cli.journal import head_line
from implantation.config.loader import demo_config, get_process_config
from implantation.config.schema import ProcessConfig
from implantation.dates import fr_date, fr_datetime
from implantation.db.journal import verify
from implantation.db.models import DocumentRecord, ImplantationProject, StageRecord, TransitionLog
from implantation.db.session import session_scope
from implantation.documents.service import project_dir
from implantation.settings import Settings, get_settings

SCENARIO_STEPS = 18  # start, answers, import, regeneration, signatures, refusals, launch: the progress bar

console = Console()


def _summary(engine: Engine, settings: Settings, projet_id: int, sink: SmtpSink, ui_url: str) -> None:
    cfg = get_process_config(settings.config_dir)
    with session_scope(engine) as session:
        project = session.get(ImplantationProject, projet_id)
        assert project is not None
        stages = Table(
            title=f"Projet {project.reference} : {project.status.label}, démarrage le {fr_date(project.launch_date)}"
        )
        for column in ("Étape", "Statut", "Ouverte le", "Échéance", "Close le", "Tentatives"):
            stages.add_column(column)
        for r in session.exec(
            select(StageRecord).where(StageRecord.project_id == projet_id).order_by(col(StageRecord.stage))
        ):
            stages.add_row(
                f"{r.stage}. {cfg.stage(r.stage).titre}",
                r.status.label,
                fr_date(r.opened_on),
                fr_date(r.due_on),
                fr_date(r.closed_on) if r.closed_on else "–",
                str(r.attempt),
            )
        decisions = Table(title="Journal des décisions (base de l'application)")
        for column in ("Date", "Étape", "Transition", "Acceptée", "Par", "Motif"):
            decisions.add_column(column)
        for t in session.exec(
            select(TransitionLog).where(TransitionLog.project_id == projet_id).order_by(col(TransitionLog.id))
        ):
            decisions.add_row(
                fr_datetime(t.at),
                str(t.stage or "–"),
                t.transition,
                "oui" if t.accepted else "non",
                t.actor_label,
                (t.reason or "")[:90],
            )
        folder = project_dir(settings, project.reference)
        documents = Table(title=f"Documents générés ({folder})")
        for column in ("Document", "Version", "Statut", "Fichier", "PDF/A"):
            documents.add_column(column)
        for d in session.exec(
            select(DocumentRecord)
            .where(DocumentRecord.project_id == projet_id)
            .order_by(col(DocumentRecord.id))
        ):
            documents.add_row(d.kind.label, str(d.version), d.status.label, d.filename, d.pdf_filename or "–")
    mails = Table(title=f"Courriels reçus par le serveur SMTP de démonstration ({len(sink.messages)})")
    for column in ("Objet", "Destinataires", "Pièces jointes"):
        mails.add_column(column)
    for m in sink.messages:
        attachments = [a.get_filename() or "" for a in m.iter_attachments()]
        mails.add_row(
            str(m["Subject"]).split(" – ", 1)[-1], str(len(str(m["To"]).split(","))), ", ".join(attachments)
        )
    for table in (stages, decisions, documents, mails):
        console.print(table)
    console.print(f"Interface Prefect : [bold]{ui_url}[/] (artefacts : {ui_url}/artifacts)")
    _signatures(engine, settings, cfg, projet_id)
    with engine.connect() as conn:
        journal = verify(conn)
    if not journal.ok:
        raise RuntimeError(f"journal altéré : {journal.problem}")
    console.print(f"Journal vérifié. {head_line(journal)}")


def _signatures(engine: Engine, settings: Settings, cfg: ProcessConfig, projet_id: int) -> None:
    """Every signature of the pack verified again (``siae documents verifier``), and how to do it by hand."""
    from implantation.signatures.register import verify_project

    table = Table(title="Signatures vérifiées (certificats de l'autorité de DÉMONSTRATION, sans valeur)")
    for column in ("Document", "Partie", "Signataire", "Nature", "Vérification"):
        table.add_column(column)
    with session_scope(engine) as session:
        checks = verify_project(session, settings, projet_id)
        for c in checks:
            slot = cfg.documents.document[c.record.kind].signs_for(c.signature.party_role)
            table.add_row(
                c.record.pdf_filename or c.record.filename,
                (slot or c.signature.party_role).label,
                c.signature.signer_label,
                c.label,
                c.problem or "vérifiée",
            )
    console.print(table)
    failing = [c for c in checks if c.problem]
    if failing:
        raise RuntimeError(f"signature(s) qui ne se vérifient plus : {failing[0].problem}")
    console.print(
        "Vérifier de nouveau : SIAE_MODE=demo "
        f"SIAE_DATA_DIR={settings.data_dir} SIAE_DATABASE_URL={settings.effective_database_url} "
        f"SIAE_CONFIG_DIR={settings.config_dir} siae documents verifier {projet_id}"
    )


def _national(engine: Engine, settings: Settings, projet_id: int, base: Path) -> None:
    """The national overview (``siae tableau``), its workbook and the project's calendar, under ``base``."""
    from datetime import date

    from implantation.cli.overview import overview_table
    from implantation.services.ics import project_calendar
    from implantation.services.overview import overview
    from implantation.services.overview_chart import chart_png
    from implantation.services.overview_export import write_xlsx

    cfg = get_process_config(settings.config_dir)
    today = date.today()
    with session_scope(engine) as session:
        rows = overview(session, cfg, today)
        console.print(overview_table(rows, today))
        write_xlsx(
            rows, cfg, base / "tableau-national.xlsx", today, chart_png(rows, today, cfg.stage_numbers)
        )
        project = session.get(ImplantationProject, projet_id)
        assert project is not None
        ics = base / f"{project.reference}.ics"
        ics.write_bytes(project_calendar(session, cfg, project, today))
    console.print(f"Tableau national : {base / 'tableau-national.xlsx'} ; calendrier du projet : {ics}")


def main(argv: list[str] | None = None) -> int:
    widen_piped_output()
    parser = FrenchArgumentParser(description="Démonstration complète d'une implantation (six étapes).")
    parser.add_argument(
        "--keep", action="store_true", help="Laisser le serveur tourner avec une décision en attente"
    )
    parser.add_argument("--port", type=int, default=None, help="Port du serveur Prefect (libre par défaut)")
    parser.add_argument(
        "--dossier", type=Path, default=None, help="Répertoire de la démonstration (effacé au départ)"
    )
    args = parser.parse_args(argv)

    base = args.dossier or get_settings().data_dir / "demo"
    shutil.rmtree(base, ignore_errors=True)
    base.mkdir(parents=True)
    # The shipped amounts stay in force until replaced and cover the demonstration's dates; only the AT/MP
    # rate of the demonstration establishment, which received no notice, comes from the demonstration file:
    # the CEPs that use it carry the « DOCUMENT DE DÉMONSTRATION » header and cannot be signed.
    settings = Settings(
        data_dir=base / "donnees",
        database_url=f"sqlite:///{base / 'donnees' / 'siae.db'}",
        config_dir=demo_config(base / "configuration"),
    )
    console.print(f"[bold]Démonstration[/] dans {base}")
    with sandbox(
        base,
        settings.effective_database_url,
        settings.data_dir,
        port=args.port,
        log_dir=base / "journaux",
        extra={"SIAE_CONFIG_DIR": str(settings.config_dir)},
        today=SCENARIO_TODAY,
    ) as box:
        stack, sink = box.stack, box.sink
        try:
            with console.status("Démarrage du serveur Prefect et du runner…"):
                stack.start(schedules=False)
            console.print(
                f"Serveur Prefect : {stack.ui_url} ; SMTP de démonstration : {sink.host}:{sink.port}"
            )
            with Progress(
                TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=console
            ) as progress:
                bar = progress.add_task("Implantation", total=SCENARIO_STEPS)

                def step(message: str) -> None:
                    progress.console.print(f"  • {message}")
                    progress.advance(bar)

                driver = Driver(
                    box.api,
                    box.engine,
                    get_process_config(settings.config_dir),
                    box.ids,
                    on_step=step,
                    sink=sink,
                    folder=base / "saisies",
                    app_env=stack.env,
                    pdf=True,
                )
                projet_id = driver.start()
                step("DISP : implantation démarrée, étape 1 ouverte")
                full_implantation(driver, projet_id)
                step("Étape 6 : activité lancée")
                progress.update(bar, completed=SCENARIO_STEPS)
            _summary(box.engine, settings, projet_id, sink, stack.ui_url)
            _national(box.engine, settings, projet_id, base)
            if args.keep:
                return _keep(driver, stack, sink)
            return 0
        except (LocalServiceError, RuntimeError) as exc:
            console.print(f"[bold red]Échec de la démonstration :[/] {exc}")
            for service in stack.services:
                console.print(f"--- {service.name} ---\n{service.log_tail(30)}")
            return 1


def _keep(driver: Driver, stack: LocalStack, sink: SmtpSink) -> int:
    """A second implantation waits at gate 1 until someone answers in the UI; Ctrl-C stops everything."""
    projet_id = driver.start()
    run_id, _details = driver.wait_gate(projet_id, 1)
    console.print(
        f"\n[bold]Une décision attend dans l'interface :[/] {stack.ui_url}/runs/flow-run/{run_id}\n"
        f"Cliquez sur « Resume », puis répondez avec l'adresse {driver.email('cheffe.projet.disp')} (DISP de Lyon) "
        f"et son code {driver.received_code(projet_id, 1, driver.email('cheffe.projet.disp'))}.\n"
        "Le serveur reste démarré ; Ctrl-C pour tout arrêter."
    )
    stop = False

    def _stop(_signum: int, _frame: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, _stop)
    try:
        while not stop and all(s.alive() for s in stack.services):
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    console.print(f"Arrêt. {len(sink.messages)} courriel(s) reçus au total.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
