"""The overview as a picture: projects per stage and per DISP, the late ones marked in red.

Drawn with matplotlib's Agg backend (no display needed) into PNG bytes, for the workbook, the
e-mail to ATIGIP and the guides. People read a picture faster than a table.
"""

import io
from collections.abc import Sequence
from datetime import date

from implantation.services.overview import OverviewRow, counts

ON_TIME = "#4C72B0"
LATE = "#C44E52"


def chart_png(rows: Sequence[OverviewRow], today: date, stages: Sequence[int]) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    figures = counts(list(rows), stages)
    figure = Figure(figsize=(11, 4.5), dpi=100)
    by_stage, by_disp = figure.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.6]})
    stages = list(figures.per_stage)
    late = [figures.late_per_stage[n] for n in stages]
    on_time = [figures.per_stage[n] - figures.late_per_stage[n] for n in stages]
    by_stage.bar([str(n) for n in stages], on_time, color=ON_TIME, label="dans les délais")
    by_stage.bar([str(n) for n in stages], late, bottom=on_time, color=LATE, label="en retard")
    by_stage.set_title("Projets par étape en cours")
    by_stage.set_xlabel("Étape")
    by_stage.set_ylabel("Projets")
    by_stage.set_ylim(0, max(1, *figures.per_stage.values()) * 1.3)  # room for the legend
    by_stage.legend(loc="upper left", fontsize="small")
    disps = list(figures.per_disp)
    disp_late = [figures.late_per_disp.get(code, 0) for code in disps]
    disp_on_time = [figures.per_disp[code] - figures.late_per_disp.get(code, 0) for code in disps]
    by_disp.barh(disps, disp_on_time, color=ON_TIME, label="dans les délais")
    by_disp.barh(disps, disp_late, left=disp_on_time, color=LATE, label="en retard")
    by_disp.invert_yaxis()
    by_disp.set_title("Projets par DISP")
    by_disp.set_xlabel("Projets")
    for axis in (by_stage, by_disp):
        axis.grid(axis="y" if axis is by_stage else "x", alpha=0.3)
        axis.set_axisbelow(True)
    total = sum(figures.per_stage.values())
    total_late = sum(figures.late_per_stage.values())
    figure.suptitle(
        f"Implantations de SIAE en cours au {today:%d/%m/%Y} : {total} projets, {total_late} en retard"
    )
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
