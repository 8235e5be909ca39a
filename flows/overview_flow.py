"""The national overview for ATIGIP (deployment ``tableau-national``): daily, and on demand.

A table artifact with a stable key (the UI keeps its history), then the workbook and the chart by
e-mail to the ATIGIP people. ``aujourdhui`` lets an operator publish the table as of another date.
"""

from datetime import date
from typing import Annotated

from prefect import flow, get_run_logger

from flows.parameters import titled
from implantation import dates
from tasks.overview import OverviewSummary, mail_overview, publish_overview


@flow(
    name="tableau-national", persist_result=True, description="Tableau national des implantations (ATIGIP)."
)
def tableau_national(
    aujourdhui: Annotated[date | None, titled("Date du tableau")] = None,
) -> OverviewSummary:
    """Publier le tableau national (artefact) et l'envoyer à l'ATIGIP.

    Args:
        aujourdhui: Date du tableau ; aujourd'hui si vide.
    """
    today = aujourdhui or dates.today()
    published = publish_overview(today)
    sent = mail_overview(today)
    get_run_logger().info(
        "Tableau national : %d projet(s), %d en retard ; envoyé à %d personne(s) de l'ATIGIP.",
        published.projets,
        published.en_retard,
        len(sent.destinataires),
    )
    return sent
