"""What the people of a project type, for the demo and the end-to-end tests: the ``siae`` commands.

The sample dossier (``config/echantillons/dossier.toml``, its dates moved to the run's launch date) is what
the scenario types in the gate forms of stages 1, 3 and 4; :func:`enter_stage_facts` enters one stage's keys
with ``siae projet completer`` instead (the recovery tests, the national benchmark). The opérateurs go in
through ``siae operateurs importer`` with the sample CSV, the COPIL minutes and deliverables through
``siae projet copil|livrable`` and the signatures through ``siae documents signer``: the same code paths
as a person at a terminal, run in this process against the sandbox's database.
"""

import csv
import io
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from typer.testing import CliRunner

from implantation.calendar import add_months
from implantation.cli import app
from implantation.config.schema import ProcessConfig
from implantation.db.session import get_engine
from implantation.dossier import STAGE_MODELS, Dossier
from implantation.dossier_toml import to_toml
from implantation.services.dossier import load_dossier
from implantation.settings import PROJECT_ROOT, get_settings

SAMPLES = PROJECT_ROOT / "config" / "echantillons"


class CommandFailed(RuntimeError):
    pass


@dataclass
class Terminal:
    """Runs ``siae …`` with the sandbox's database; a refusal raises with the command's French output."""

    database_url: str
    folder: Path
    # The application's settings of the sandbox (SIAE_DATA_DIR, SIAE_CONFIG_DIR, SIAE_TODAY…), so that a
    # command sees the same files, configuration and day as the runner.
    env: dict[str, str] = field(default_factory=dict)

    def __call__(self, *args: str) -> str:
        get_settings.cache_clear()
        get_engine.cache_clear()
        try:
            result = CliRunner().invoke(
                app,
                list(args),
                env={**self.env, "SIAE_DATABASE_URL": self.database_url, "COLUMNS": "200"},
            )
        finally:
            get_engine(self.database_url).dispose()  # the engine ``siae documents`` keeps
            get_settings.cache_clear()
            get_engine.cache_clear()
        if result.exit_code != 0:
            raise CommandFailed(f"« siae {' '.join(args)} » a échoué ({result.exit_code}) :\n{result.output}")
        return result.output


def sample_dossier(launch_on: date) -> Dossier:
    """The sample dossier with its dates moved to ``launch_on`` (3-year convention, 7-year contract)."""
    return load_dossier(SAMPLES / "dossier.toml").model_copy(
        update={
            "date_demarrage_prevue": launch_on,
            "convention_debut": launch_on,
            "convention_fin": add_months(launch_on, 36) - timedelta(days=1),
            "implantation_debut": launch_on,
            "implantation_fin": add_months(launch_on, 84) - timedelta(days=1),
        }
    )


def enter_stage_facts(terminal: Terminal, projet_id: int, stage: int, launch_on: date) -> str:
    """``siae projet completer`` with the keys of that stage's form (stage 2's are chosen at its gate)."""
    keys = set(STAGE_MODELS[stage].model_fields) - set(STAGE_MODELS[2].model_fields)
    path = terminal.folder / f"dossier-etape-{stage}.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(to_toml(sample_dossier(launch_on), keys), encoding="utf-8")
    return terminal("projet", "completer", str(projet_id), "--fichier", str(path))


def import_sample_operateurs(
    terminal: Terminal, projet_id: int, contract_start: date, by: int | None = None
) -> str:
    """``siae operateurs importer`` with the sample CSV, its CEPs starting on ``contract_start`` (classement and
    affectation three weeks and one week before); ``by`` is
    the person who enters them (``--par``), logged with each opérateur."""
    text = (SAMPLES / "operateurs.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text), delimiter=";"))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), delimiter=";", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {
                **row,
                "date_classement": (contract_start - timedelta(days=21)).isoformat(),
                "date_affectation": (contract_start - timedelta(days=7)).isoformat(),
                "debut_contrat": contract_start.isoformat(),
            }
        )
    path = terminal.folder / "operateurs.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(out.getvalue(), encoding="utf-8")
    return terminal("operateurs", "importer", str(projet_id), str(path), *(["--par", str(by)] if by else []))


def record_stage_work(terminal: Terminal, cfg: ProcessConfig, projet_id: int, stage: int, day: date) -> None:
    """What the pilots do during a stage: its minimum of COPILs and its deliverables (``config/etapes.toml``)."""
    spec = cfg.stage(stage)
    for n in range(spec.copil.min if spec.copil else 0):
        terminal(
            "projet",
            "copil",
            str(projet_id),
            "--etape",
            str(stage),
            "--date",
            day.isoformat(),
            "--participants",
            "DISP, CP de Grenoble-Varces, SPIP de l'Isère, DREETS",
            "--decisions",
            f"COPIL {n + 1} de l'étape {stage} : avancement validé",
        )
    for deliverable in spec.livrables:
        terminal(
            "projet",
            "livrable",
            str(projet_id),
            "--etape",
            str(stage),
            "--type",
            deliverable.id,
            "--date",
            day.isoformat(),
            "--reference",
            f"{deliverable.id}.pdf",
        )


def sample_identities() -> list[tuple[str, str, str]]:
    """First name, last name and écrou of the sample opérateurs: searched for in every Prefect output."""
    text = (SAMPLES / "operateurs.csv").read_text(encoding="utf-8")
    return [(r["prenom"], r["nom"], r["ecrou"]) for r in csv.DictReader(io.StringIO(text), delimiter=";")]
