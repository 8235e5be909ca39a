"""Start a stage's run on the ``etape`` deployment, as a top-level run so that it can suspend.

A subflow cannot suspend; ``as_subflow=False`` makes the stage run independent of the caller. The
idempotency key names the project, the stage and the stage's attempt: a replayed caller gets the run
already created, and a stage reopened by a send-back gets a new one.
"""

from uuid import UUID

from prefect import task
from prefect.deployments import run_deployment

from tasks.common import TASK_OPTIONS

STAGE_DEPLOYMENT = "etape/etape"


def stage_run_key(projet_id: int, etape: int, tentative: int) -> str:
    return f"projet-{projet_id}-etape-{etape}-tentative-{tentative}"


@task(name="demarrer-etape", **TASK_OPTIONS)
def start_stage_run(projet_id: int, etape: int, tentative: int) -> UUID:
    run = run_deployment(
        STAGE_DEPLOYMENT,
        parameters={"projet_id": projet_id, "etape": etape},
        timeout=0,
        as_subflow=False,
        idempotency_key=stage_run_key(projet_id, etape, tentative),
        flow_run_name=f"projet-{projet_id}-etape-{etape}-tentative-{tentative}",
        tags=[f"projet-{projet_id}"],
    )
    return run.id
