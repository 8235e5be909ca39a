"""The run form of ``demarrer-implantation`` offers the establishments and the DISP leads as lists.

Prefect derives a deployment's parameter schema from the flow's signature, once, when the runner
registers it: a list of today's establishments cannot be written there. After each registration (runner
start) and after each change of the referential (CSV import, ``siae ajouter``), the schema is patched
with ``enum`` lists built from the application database and sent back through Prefect's public
``update_deployment``. The server then checks a run's parameters against those lists, so the form shows
drop-downs and a value typed by hand that matches nothing is refused before any run is created.
"""

import copy
from typing import Any

from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.actions import DeploymentUpdate
from sqlalchemy.engine import Engine

from implantation.db.session import session_scope
from implantation.services import choices

DEPLOYMENT = "demarrer-implantation/demarrer-implantation"


def current_lists(engine: Engine) -> dict[str, list[str]]:
    """Parameter name → labels offered, from the referential as it is now."""
    with session_scope(engine) as session:
        return {
            "etablissement": choices.establishment_choices(session),
            "chef_de_projet": choices.lead_choices(session),
        }


def with_lists(schema: dict[str, Any], lists: dict[str, list[str]]) -> dict[str, Any]:
    """``schema`` with each listed parameter restricted to its labels (an empty list restricts nothing)."""
    patched = copy.deepcopy(schema)
    for name, labels in lists.items():
        field = patched.get("properties", {}).get(name)
        if field is None:
            continue
        if labels:
            field["enum"] = labels
        else:
            field.pop("enum", None)
    return patched


async def refresh(client: PrefectClient, engine: Engine) -> bool:
    """Patch the deployment's run form with the current lists; False when it is not registered yet."""
    from prefect.exceptions import ObjectNotFound

    try:
        deployment = await client.read_deployment_by_name(DEPLOYMENT)
    except ObjectNotFound:
        return False
    schema = with_lists(deployment.parameter_openapi_schema or {}, current_lists(engine))
    if schema != deployment.parameter_openapi_schema:
        await client.update_deployment(deployment.id, DeploymentUpdate(parameter_openapi_schema=schema))
    return True
