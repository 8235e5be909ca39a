"""``siae tableau``: the national overview for ATIGIP, on screen or exported (CSV, workbook)."""

from datetime import date
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from implantation import dates
from implantation.cli.common import database, fmt, handled, out, parse_id, process_config
from implantation.services.errors import DomainError
from implantation.services.overview import OverviewFilters, OverviewRow, overview

FORMATS = ("csv", "xlsx")


def _today() -> date:
    return dates.today()


def overview_table(rows: list[OverviewRow], today: date) -> Table:
    late = sum(1 for r in rows if r.late)
    table = Table(
        title=f"Tableau national des implantations au {fmt(today)}",
        caption=f"{len(rows)} projet(s), dont {late} en retard (jours ouvrés du département)",
        show_lines=False,
    )
    for column, justify in (
        ("Projet", "left"),
        ("Établissement", "left"),
        ("DISP", "left"),
        ("Dép.", "left"),
        ("SIAE · activité", "left"),
        ("Étape · pilote", "left"),
        ("Échéance", "left"),
        ("Retard (j)", "right"),
        ("Dernière décision", "left"),
        ("Docs signés", "right"),
        ("Op. CEP", "right"),
    ):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for row in rows:
        due = fmt(row.due_on)
        if row.suspended_on is not None:
            due += f"\n[yellow]suspendue le {fmt(row.suspended_on)}[/]"
            if row.suspension_reason:
                due += f"\n[yellow]{escape(row.suspension_reason[:60])}[/]"
        decision = "—"
        if row.last_decision and row.last_decision_at:
            decision = f"{row.last_decision} le {row.last_decision_at:%d/%m/%Y}\n{escape(row.last_decision_by or '')}"
        siae = escape(row.siae or "—") + (f"\n[dim]{escape(row.activity)}[/]" if row.activity else "")
        state = "[yellow]Suspendue[/]" if row.suspended_on is not None else row.stage_status.label
        stage = f"{row.stage}. {state}\n[dim]{escape(row.pilot_roles)}[/]"
        if row.status.value != "en_cours":
            stage = f"{row.status.label}\n[dim]étape {row.stage}[/]"
        table.add_row(
            escape(row.reference),
            escape(row.establishment),
            row.disp,
            row.departement,
            siae,
            stage,
            due,
            f"[bold red]{row.late_days}[/]" if row.late_days else "0",
            decision,
            f"{row.documents_signed}/{row.documents_required}",
            str(row.operateurs_cep),
            style="on #3a0000" if row.late else None,
        )
    return table


def tableau(
    disp: str | None = typer.Option(None, "--disp", help="Code de la DISP (LYON, PARIS…)"),
    region: str | None = typer.Option(None, "--region", help="Code INSEE ou nom de la région"),
    departement: str | None = typer.Option(None, "--departement", help="Code du département (38, 2A…)"),
    etape: str | None = typer.Option(None, "--etape", help="Étape en cours (numéro de config/etapes.toml)"),
    en_retard: bool = typer.Option(False, "--en-retard", help="Seulement les projets en retard"),
    format_: str | None = typer.Option(None, "--format", help="Export : csv (UTF-8, « ; ») ou xlsx"),
    sortie: str | None = typer.Option(None, "--sortie", help="Fichier d'export (avec --format)"),
) -> None:
    """Tableau national : chaque projet, son étape, son échéance, son retard, sa dernière décision."""
    with handled():
        wanted = (format_ or "").strip().lower() or None
        if wanted is not None and wanted not in FORMATS:
            raise DomainError(f"Champ « format » : « {format_} » inconnu (csv ou xlsx).", field="format")
        if wanted is None and sortie:
            wanted = Path(sortie).suffix.lstrip(".").lower()
            if wanted not in FORMATS:
                raise DomainError(
                    "Champ « format » : préciser --format csv ou --format xlsx.", field="format"
                )
        if wanted is not None and not sortie:
            raise DomainError(
                "Champ « sortie » : fichier d'export manquant (--sortie FICHIER).", field="sortie"
            )
        filters = OverviewFilters(
            disp=disp,
            region=region,
            departement=departement,
            stage=parse_id(etape, "etape") if etape else None,
            late_only=en_retard,
        )
        cfg = process_config()
        today = _today()
        with database() as session:
            rows = overview(session, cfg, today, filters)
        if sortie and wanted:
            from implantation.services import overview_export

            path = Path(sortie)
            if wanted == "csv":
                overview_export.write_csv(rows, path)
            else:
                from implantation.services.overview_chart import chart_png

                overview_export.write_xlsx(rows, cfg, path, today, chart_png(rows, today, cfg.stage_numbers))
            out.print(escape(f"Tableau exporté ({wanted}, {len(rows)} projet(s)) : {path}"))
            return
        if not rows:
            out.print("Aucun projet ne correspond.")
            return
        out.print(overview_table(rows, today))
