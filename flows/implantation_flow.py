"""Start an implantation (deployment ``demarrer-implantation``): create the project, then start stage 1.

A Prefect parameter is stored and shown in the UI: the establishment and the lead are chosen from lists
of staff and structures (see ``flows/runtime/choices.py``), never anything about a person detained. The stage runs are separate top-level runs of the ``etape`` deployment, because only those can
suspend while waiting for a decision.
"""

from datetime import date
from typing import Annotated

from prefect import flow
from pydantic import BaseModel

from flows.parameters import titled
from implantation.keys import creation_key
from tasks.artifacts import publish_progress
from tasks.events import emit_transition
from tasks.persist import create_project_task
from tasks.runs import start_stage_run


class ImplantationStarted(BaseModel):
    projet_id: int
    reference: str
    run_etape_1: str


@flow(
    name="demarrer-implantation",
    persist_result=True,
    description="Démarrer l'implantation d'une SIAE dans un établissement pénitentiaire (étape 1 ouverte).",
)
def demarrer_implantation(
    etablissement: Annotated[str, titled("Établissement", min_length=1)],
    chef_de_projet: Annotated[str, titled("Chef de projet DISP", min_length=1)],
    date_debut: Annotated[date | None, titled("Date de début")] = None,
) -> ImplantationStarted:
    """Démarrer l'implantation d'une SIAE : le projet est créé et l'étape 1 s'ouvre.

    Args:
        etablissement: Établissement pénitentiaire candidat, choisi dans la liste (code et nom).
        chef_de_projet: Chef de projet, choisi parmi les personnes des DISP (il doit relever de la DISP de
            l'établissement).
        date_debut: Date de début du projet ; aujourd'hui si vide.
    """
    project = create_project_task(etablissement, chef_de_projet, date_debut)
    emit_transition(project.projet_id, project.reference, "creee", creation_key(project.projet_id))
    run_id = start_stage_run(project.projet_id, 1, 1)
    publish_progress(project.projet_id, creation_key(project.projet_id))
    return ImplantationStarted(
        projet_id=project.projet_id, reference=project.reference, run_etape_1=str(run_id)
    )
