"""The national overview as files: CSV (UTF-8, ``;``), a workbook for ATIGIP, and a chart.

The workbook is what people filter and forward: a frozen header, filters on every column, French
dates, the late rows highlighted, and a second sheet counting projects per stage and per DISP (with
the chart). Everything here reads :class:`OverviewRow`, so the CLI, the Prefect artifact and the
e-mail show the same figures.
"""

import csv
import io
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from implantation.config.schema import ProcessConfig
from implantation.services.overview import OverviewRow, counts

PARIS = ZoneInfo("Europe/Paris")
LATE_FILL = "FFC7CE"
SUSPENDED_FILL = "FFEB9C"

COLUMNS: tuple[str, ...] = (
    "Référence",
    "Établissement",
    "DISP",
    "Région",
    "Département",
    "SIAE",
    "Activité",
    "Statut du projet",
    "Étape",
    "Intitulé de l'étape",
    "État de l'étape",
    "Pilote(s)",
    "Échéance",
    "Retard (jours ouvrés)",
    "Suspendue depuis",
    "Attente (motif de la suspension)",
    "Dernière décision",
    "Date de la décision",
    "Décidée par",
    "Documents signés",
    "Documents requis",
    "Opérateurs sous CEP",
)


def local(moment: datetime | None) -> datetime | None:
    """Paris wall-clock time, naive (spreadsheets have no time zones); stored naive values are UTC."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(PARIS).replace(tzinfo=None)


def values(row: OverviewRow) -> list[Any]:
    """One row as typed values (dates stay dates), in :data:`COLUMNS` order."""
    return [
        row.reference,
        row.establishment,
        row.disp,
        row.region,
        row.departement,
        row.siae or "",
        row.activity or "",
        row.status.label,
        row.stage,
        row.stage_title,
        row.stage_status.label,
        row.pilot_roles,
        row.due_on,
        row.late_days,
        row.suspended_on,
        row.suspension_reason or "",
        row.last_decision or "",
        local(row.last_decision_at),
        row.last_decision_by or "",
        row.documents_signed,
        row.documents_required,
        row.operateurs_cep,
    ]


def _text(value: Any) -> str:
    if isinstance(value, datetime):
        return f"{value:%d/%m/%Y %H:%M}"
    if isinstance(value, date):
        return f"{value:%d/%m/%Y}"
    return "" if value is None else str(value)


def text_values(row: OverviewRow) -> list[str]:
    return [_text(value) for value in values(row)]


def to_csv(rows: Sequence[OverviewRow]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow(text_values(row))
    return buffer.getvalue()


def write_csv(rows: Sequence[OverviewRow], path: Path) -> None:
    # UTF-8 with a BOM: the spreadsheet programs ATIGIP opens it with then read the accents right.
    path.write_text(to_csv(rows), encoding="utf-8-sig", newline="")


def write_xlsx(
    rows: Sequence[OverviewRow], cfg: ProcessConfig, path: Path, today: date, chart_png: bytes | None = None
) -> None:
    from openpyxl import Workbook
    from openpyxl.drawing.image import Image
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Projets"
    sheet.append(list(COLUMNS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    late = PatternFill("solid", start_color=LATE_FILL, end_color=LATE_FILL)
    suspended = PatternFill("solid", start_color=SUSPENDED_FILL, end_color=SUSPENDED_FILL)
    for row in rows:
        sheet.append(values(row))
        fill = late if row.late else suspended if row.suspended_on else None
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, datetime):
                cell.number_format = "DD/MM/YYYY HH:MM"
            elif isinstance(cell.value, date):
                cell.number_format = "DD/MM/YYYY"
            if fill is not None:
                cell.fill = fill
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{max(1, sheet.max_row)}"
    for index, title in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = max(12, min(45, len(title) + 4))

    summary = book.create_sheet("Synthèse")
    figures = counts(list(rows), cfg.stage_numbers)
    summary.append([f"Projets en cours au {today:%d/%m/%Y}"])
    summary["A1"].font = Font(bold=True)
    summary.append([])
    summary.append(["Étape", "Intitulé", "Projets", "Dont en retard"])
    header_stage = summary.max_row
    for number, total in figures.per_stage.items():
        summary.append([number, cfg.stage(number).titre, total, figures.late_per_stage[number]])
    summary.append([])
    summary.append(["DISP", "Direction", "Projets", "Dont en retard"])
    header_disp = summary.max_row
    for code, total in figures.per_disp.items():
        summary.append([code, cfg.territory.disp.get(code, ""), total, figures.late_per_disp.get(code, 0)])
    for header in (header_stage, header_disp):
        for cell in summary[header]:
            cell.font = Font(bold=True)
    summary.column_dimensions["B"].width = 70
    summary.column_dimensions["C"].width = 10
    summary.column_dimensions["D"].width = 16
    if chart_png:
        image = Image(io.BytesIO(chart_png))
        summary.add_image(image, f"F{header_stage}")
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
