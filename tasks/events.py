"""One Prefect event per transition, for automations and the event feed.

Events hold the project id, its reference, the stage and the decision: no name, no e-mail, no free text
(a motive could name someone). Prefect keeps events a few days; the application's transition log is the
audit record. The event id derives from the transition's key, so a replayed emission is the same event.

Not a task: the event is already idempotent by its id, and a task run would send three state events of its
own (with their state rows) to emit this one: six of a transition's events, at the opening and the decision.
"""

import uuid

from prefect.events import emit_event

NAMESPACE = uuid.UUID("6f1b8f2e-3c1a-4d55-9a9e-5b0c2d7e8a41")

EVENTS = {
    "creee": "siae.implantation.creee",
    "ouverte": "siae.etape.ouverte",
    "approuver": "siae.etape.approuvee",
    "rejeter": "siae.etape.rejetee",
    "renvoyer": "siae.etape.renvoyee",
    "suspendre": "siae.etape.suspendue",
    "reprendre": "siae.etape.reprise",
    "refusee": "siae.decision.refusee",
    "lancee": "siae.implantation.lancee",
}


def resource_id(projet_id: int) -> str:
    return f"siae.implantation.{projet_id}"


def emit_transition(projet_id: int, reference: str, kind: str, key: str, etape: int | None = None) -> str:
    name = EVENTS[kind]
    resource = {"prefect.resource.id": resource_id(projet_id), "prefect.resource.name": reference}
    payload: dict[str, int | str] = {"projet_id": projet_id, "reference": reference}
    if etape is not None:
        resource["siae.etape"] = str(etape)
        payload["etape"] = etape
    emit_event(event=name, resource=resource, payload=payload, id=uuid.uuid5(NAMESPACE, f"{name}:{key}"))
    return name
