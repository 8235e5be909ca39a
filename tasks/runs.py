"""Start a stage's run on the ``etape`` deployment, as a top-level run so that it can suspend.

A subflow cannot suspend, so the stage run is created on the deployment with no parent. The
idempotency key names the project, the stage and the stage's attempt: a replayed caller gets the run
already created, and a stage reopened by a send-back gets a new one. The client retries quickly a
creation refused by a locked SQLite server (see :mod:`flows.runtime.client`): people wait on this call.
"""

from uuid import UUID

from prefect import task
from prefect.client.orchestration import SyncPrefectClient
from prefect.context import FlowRunContext
from prefect.states import Scheduled

from flows.runtime.client import sync_client
from implantation.keys import stage_attempt_key
from tasks.common import TASK_OPTIONS

STAGE_DEPLOYMENT = "etape/etape"


def _stage_deployment_id(client: SyncPrefectClient) -> UUID:
    """The ``etape`` deployment: the calling run's own when a stage starts the next one (one request
    less while people wait), read by name otherwise."""
    context = FlowRunContext.get()
    if (
        context
        and context.flow is not None
        and context.flow.name == STAGE_DEPLOYMENT.split("/")[0]
        and context.flow_run is not None
        and context.flow_run.deployment_id
    ):
        return context.flow_run.deployment_id
    return client.read_deployment_by_name(STAGE_DEPLOYMENT).id


@task(name="demarrer-etape", **TASK_OPTIONS)
def start_stage_run(projet_id: int, etape: int, tentative: int) -> UUID:
    key = stage_attempt_key(projet_id, etape, tentative)
    with sync_client() as client:
        run = client.create_flow_run_from_deployment(
            _stage_deployment_id(client),
            parameters={"projet_id": projet_id, "etape": etape},
            state=Scheduled(),
            name=key,
            tags=[f"projet-{projet_id}"],
            idempotency_key=key,
        )
    return run.id
