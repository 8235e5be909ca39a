"""Re-send a person's code for the decision awaited at a gate (deployment ``renvoyer-code``).

Started from ``siae decision renvoyer-code`` or from its run form in the Prefect UI; the code is computed
and e-mailed by the run, where ``SIAE_SECRET_KEY`` is, and only to the address registered for a person
allowed to decide at that gate. The run ends « Completed » or « Failed » with a French sentence that says
what was done or why not.
"""

from typing import Annotated

from prefect import flow, runtime
from prefect.states import Completed, Failed, State

from flows.parameters import titled
from tasks.codes import resend_code_task


@flow(
    name="renvoyer-code",
    description="Renvoyer à une personne habilitée son code pour la décision attendue à une étape.",
)
def renvoyer_code(
    projet: Annotated[str, titled("Projet", min_length=1, max_length=40)],
    etape: Annotated[int, titled("Étape", ge=1)],
    personne: Annotated[str, titled("Adresse électronique de la personne", min_length=3, max_length=254)],
) -> State:
    """Renvoyer son code de décision à une personne habilitée ; l'envoi est inscrit au journal.

    Args:
        projet: Référence du projet (ex. IMP-2026-0001) ou son identifiant.
        etape: Numéro de l'étape dont la décision est attendue.
        personne: Adresse enregistrée d'une personne habilitée à décider à cette étape ; le code part à cette adresse seulement.
    """
    requested_by = f"Demande de renvoi (exécution Prefect « {runtime.flow_run.name} »)"
    result = resend_code_task(projet, etape, personne, requested_by)
    return Completed(message=result.message) if result.sent else Failed(message=result.message)
