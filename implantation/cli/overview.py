"""``siae tableau``: the national overview for ATIGIP, on screen or exported (CSV, workbook)."""

from datetime import date
from pathlib import Path

import typer
from rich.cells import cell_len
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from implantation import dates
from implantation.cli.common import database, fmt, handled, out, parse_id, process_config
from implantation.services.errors import DomainError
from implantation.services.overview import OverviewFilters, OverviewRow, overview

FORMATS = ("csv", "xlsx")


def _today() -> date:
    return dates.today()


COLUMNS = (
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
)


# Établissement, SIAE · activité, Étape · pilote, Échéance, Dernière décision.
WRAPPING = (1, 4, 5, 6, 8)


def _cells(row: OverviewRow) -> list[str]:
    due = fmt(row.due_on)
    if row.suspended_on is not None:
        due += f"\n[yellow]suspendue le {fmt(row.suspended_on)}[/]"
        if row.suspension_reason:
            due += f"\n[yellow]{escape(row.suspension_reason[:60])}[/]"
    decision = "—"
    if row.last_decision and row.last_decision_at:
        decision = (
            f"{row.last_decision} le {row.last_decision_at:%d/%m/%Y}\n{escape(row.last_decision_by or '')}"
        )
    siae = escape(row.siae or "—") + (f"\n[dim]{escape(row.activity)}[/]" if row.activity else "")
    state = "[yellow]Suspendue[/]" if row.suspended_on is not None else row.stage_status.label
    stage = f"{row.stage}. {state}\n[dim]{escape(row.pilot_roles)}[/]"
    if row.status.value != "en_cours":
        stage = f"{row.status.label}\n[dim]étape {row.stage}[/]"
    return [
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
    ]


def overview_table(rows: list[OverviewRow], today: date, screen_width: int | None = None) -> Table:
    """When the table fits ``screen_width``, each column's width is computed here from its text: rich then
    skips measuring every cell, which took half of the command's time for the 190 projects of the national
    fleet. On a narrower screen the widest columns are narrowed and wrap; on a very narrow one rich lays
    the table out itself."""
    late = sum(1 for r in rows if r.late)
    table = Table(
        title=f"Tableau national des implantations au {fmt(today)}",
        caption=f"{len(rows)} projet(s), dont {late} en retard (jours ouvrés du département)",
        show_lines=False,
    )
    body = [[Text.from_markup(cell) for cell in _cells(row)] for row in rows]
    widths = [
        max(
            [cell_len(column)] + [cell_len(line) for cells in body for line in cells[index].plain.split("\n")]
        )
        for index, (column, _justify) in enumerate(COLUMNS)
    ]
    if screen_width is not None:
        # Narrower screen: the widest columns of text give way first, down to 12 characters, and wrap; the
        # reference, codes and figures keep their width.
        room = screen_width - 3 * len(widths) - 1
        while sum(widths) > room:
            widest = max(WRAPPING, key=lambda index: widths[index])
            if widths[widest] <= 12:
                break
            widths[widest] -= 1
    fits = screen_width is not None and sum(widths) + 3 * len(widths) + 1 <= screen_width
    for (column, justify), width in zip(COLUMNS, widths, strict=True):
        table.add_column(column, justify=justify, width=width if fits else None)  # type: ignore[arg-type]
    for row, cells in zip(rows, body, strict=True):
        table.add_row(*cells, style="on #3a0000" if row.late else None)
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
        out.print(overview_table(rows, today, out.width))
