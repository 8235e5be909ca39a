"""Times ``siae tableau`` on a national fleet: 190 projects, one per establishment, at every stage.

Usage: ``.venv/bin/python -m benchmarks.overview [--projets 190] [--mesures 5] [--postgresql URL]``
(``postgresql://postgres@127.0.0.1:5432`` by default; ``--sqlite`` for a temporary SQLite file). A
database is created for the run, migrated, seeded through the services, then dropped. Figures: the
whole command in a new process, as a person typing it would wait (interpreter start-up, imports,
configuration, queries, rendering); and the overview query alone. Goal: under 1 s for
the command on PostgreSQL.
"""

import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlmodel import Session

from benchmarks.commands import run, time_command
from implantation import dates
from implantation.cli.common import FrenchArgumentParser
from implantation.config.loader import load_process_config
from implantation.config.schema import ProcessConfig
from implantation.db.migrate import upgrade
from implantation.db.models import Establishment, Person
from implantation.db.session import make_engine
from implantation.db.throwaway import ThrowawayDatabases
from implantation.enums import EstablishmentType, Role
from implantation.services.clock import suspend_stage
from implantation.services.overview import overview
from implantation.services.workflow import Actor, create_project, get_stage, move_stage, open_stage
from implantation.settings import PROJECT_ROOT
from implantation.transitions import StageTransition

TODAY = dates.today()


def seed_fleet(session: Session, cfg: ProcessConfig, count: int) -> None:
    """``count`` projects over the départements, started over 18 months, each advanced a few stages."""
    departements = sorted(cfg.territory.departement)
    leads: dict[str, Person] = {}
    for code in sorted(cfg.territory.disp):
        lead = Person(
            full_name=f"Chef de projet {code.title()}",
            email=f"chef.{code.lower()}@exemple.test",
            organisation=cfg.territory.disp[code],
            role=Role.DISP,
            territory=code,
        )
        session.add(lead)
        leads[code] = lead
    session.flush()
    for index in range(count):
        dep = departements[index % len(departements)]
        site = Establishment(
            code=f"EP-{index + 1:03d}",
            name=f"Établissement pénitentiaire n° {index + 1} ({cfg.territory.departement[dep].nom})",
            type=EstablishmentType.CP,
            departement=dep,
            city=cfg.territory.departement[dep].nom,
        )
        session.add(site)
        session.flush()
        lead = leads[cfg.territory.departement[dep].disp]
        actor = Actor.of(lead)
        # Started over the last 14 months; each stage took 45 to 104 days; one project in ten stalls.
        started = TODAY - timedelta(days=(index * 37) % 420)
        project = create_project(session, cfg, site.id, lead.id, started, actor)  # type: ignore[arg-type]
        day = started
        for number in range(1, 6 if index % 10 != 3 else 1):
            day = day + timedelta(days=45 + (index * 13) % 60)
            if day >= TODAY:
                break
            record = get_stage(session, project.id, number)  # type: ignore[arg-type]
            move_stage(session, project, record, StageTransition.APPROVE, actor, "Validée")
            record.closed_on = day
            open_stage(session, cfg, project, number + 1, day, actor)
        if index % 9 == 0:
            record = get_stage(session, project.id, project.current_stage)  # type: ignore[arg-type]
            suspend_stage(
                session, project, record, actor, "Pièce attendue de la SIAE", TODAY - timedelta(days=5)
            )
        session.flush()


def main(argv: list[str] | None = None) -> int:
    parser = FrenchArgumentParser(description="Durée de « siae tableau » sur un parc national.")
    parser.add_argument("--projets", type=int, default=190, help="Nombre de projets (190 par défaut)")
    parser.add_argument("--mesures", type=int, default=5, help="Nombre de mesures")
    parser.add_argument(
        "--postgresql", default="postgresql://postgres@127.0.0.1:5432", help="Serveur PostgreSQL"
    )
    parser.add_argument("--sqlite", action="store_true", help="Mesurer sur SQLite au lieu de PostgreSQL")
    args = parser.parse_args(argv)
    cfg = load_process_config(PROJECT_ROOT / "config")
    with tempfile.TemporaryDirectory(prefix="bench-tableau-") as tmp:
        server = None if args.sqlite else ThrowawayDatabases(args.postgresql)
        name = server.create("siae_bench") if server else None
        url = server.url(name) if server and name else f"sqlite:///{Path(tmp) / 'bench.db'}"
        try:
            engine = make_engine(url)
            upgrade(engine)
            started = time.perf_counter()
            with Session(engine) as session:
                seed_fleet(session, cfg, args.projets)
                session.commit()
            print(
                f"{args.projets} projets créés en {time.perf_counter() - started:.1f} s ({url.split(':')[0]})"
            )
            queries = []
            with Session(engine) as session:
                for _ in range(args.mesures):
                    start = time.perf_counter()
                    rows = overview(session, cfg, TODAY)
                    queries.append(time.perf_counter() - start)
            engine.dispose()
            env = dict(os.environ, SIAE_DATABASE_URL=url, SIAE_DATA_DIR=tmp, COLUMNS="200")
            timing = time_command(["tableau"], env, args.mesures)
            export = Path(tmp) / "tableau.xlsx"
            start = time.perf_counter()
            run(["tableau", "--format", "xlsx", "--sortie", str(export)], env)
            xlsx = time.perf_counter() - start
        finally:
            if server and name:
                server.drop(name)
    print(f"Requête du tableau ({len(rows)} lignes) : médiane {statistics.median(queries) * 1000:.0f} ms")
    print(
        f"« siae tableau » : médiane {timing.median:.2f} s, min {min(timing.wall):.2f} s, "
        f"max {max(timing.wall):.2f} s, processeur de la commande {timing.cpu_median:.2f} s — objectif < 1 s"
    )
    print(f"« siae tableau --format xlsx » (avec le graphique) : {xlsx:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
