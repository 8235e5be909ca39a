"""One stage of an implantation, from its opening to the decision at its gate (deployment ``etape``).

The gate suspends the run: the process exits and nothing is held while people take weeks to decide.
When someone answers in the UI the run starts again from the top. An ask whose answer is stored
(``answered``) skips the steps before it, which ran before the run suspended: a replayed task costs the
server as much as a real one. The steps whose results the decision needs (the stage read, the facts
shown) replay from their persisted task results. Each ask has its own key, because an answer is stored
under it: that is how a replay walks through earlier answers, and why a re-ask (refusal, rejection)
needs a new key.
"""

from typing import Annotated, Any

from prefect import flow, get_run_logger, runtime
from pydantic import BaseModel, Field

from flows.gates import (
    answered,
    ask,
    carried,
    collects_facts,
    form_for,
    offers_choices,
    prefilled,
    with_choices,
)
from flows.parameters import titled
from implantation.enums import Decision
from implantation.keys import gate_key, stage_attempt_key
from tasks.artifacts import publish_progress
from tasks.describe import gate_choices, gate_description, gate_facts
from tasks.events import emit_transition
from tasks.notify import (
    notify_approval_request,
    notify_decision,
    notify_launch,
    notify_stage_opened,
    send_drafts,
)
from tasks.persist import decide_gate, load_stage, still_asked
from tasks.render import generate_documents
from tasks.runs import start_stage_run


class StageOutcome(BaseModel):
    projet_id: int
    etape: int
    statut: str = Field(description="validee, renvoyee, lancee ou ignoree")
    saisies: int = Field(0, description="Nombre de réponses au formulaire, refusées comprises")
    etape_suivante: int | None = None
    run_suivant: str | None = None


def _withdrawn(projet_id: int, etape: int, saisies: int) -> StageOutcome:
    """The gate is no longer asked (project abandoned, stage cancelled or reopened by another run)."""
    get_run_logger().warning(
        "Étape %s du projet %s : plus de décision attendue (projet abandonné ou étape close), rien n'est demandé.",
        etape,
        projet_id,
    )
    return StageOutcome(projet_id=projet_id, etape=etape, statut="ignoree", saisies=saisies)


@flow(
    name="etape",
    persist_result=True,
    description="Une étape d'une implantation : ouverture, notifications, décision à la porte de l'étape.",
)
def etape(
    projet_id: Annotated[int, titled("Projet", ge=1)],
    etape: Annotated[int, titled("Étape", ge=1)],
) -> StageOutcome:
    """Une étape d'un projet, de son ouverture à la décision ; lancée par le processus lui-même.

    Args:
        projet_id: Projet d'implantation (identifiant).
        etape: Numéro de l'étape (config/etapes.toml).
    """
    logger = get_run_logger()
    run_id = runtime.flow_run.id
    info = load_stage(projet_id, etape)
    if not info.open:
        logger.warning("Étape %s du projet %s : « %s », rien à décider.", etape, projet_id, info.statut.label)
        return StageOutcome(projet_id=projet_id, etape=etape, statut="ignoree")
    opening = stage_attempt_key(projet_id, etape, info.tentative)
    form = form_for(etape)
    first = answered(form, gate_key(projet_id, etape, info.tentative, 1))
    if first is None:  # else a replay: the stage opened before its first answer
        if not still_asked(projet_id, etape, info.tentative):
            return _withdrawn(projet_id, etape, 0)
        emit_transition(projet_id, info.reference, "ouverte", opening, etape)
        notify_stage_opened(projet_id, etape, info.tentative, run_id)
    problems: list[str] = []
    kept: dict[str, Any] = {}  # facts typed in a refused answer, shown again
    facts = collects_facts(etape)
    saisie = 0
    while True:
        saisie += 1
        key = gate_key(projet_id, etape, info.tentative, saisie)
        shown = gate_facts(projet_id, etape, key) if facts else {}
        answer = first if saisie == 1 else answered(form, key)
        if answer is None:  # asked for the first time; a replay skips what ran before its answer
            # Read afresh, not from a cached result: the project may have been abandoned meanwhile.
            if not still_asked(projet_id, etape, info.tentative):
                return _withdrawn(projet_id, etape, saisie - 1)
            pack_problems: list[str] = []
            if info.documents:
                pack = generate_documents(projet_id, info.tentative, saisie)
                pack_problems = pack.problems
                if pack.ok:
                    send_drafts(projet_id, pack.document_ids, run_id)
            description = gate_description(projet_id, etape, problems, pack_problems)
            notify_approval_request(projet_id, etape, key, run_id)
            asked = with_choices(form, gate_choices()) if offers_choices(etape) else form
            answer = ask(prefilled(asked, {**shown, **kept}).with_initial_data(description=description), key)
        given = answer.model_dump(mode="json")
        result = decide_gate(projet_id, etape, key, given, shown)
        kept = carried(given, shown) if not result.accepted else {}
        if not result.accepted:
            logger.info("Saisie %s refusée : %s", saisie, " ; ".join(result.problems))
            emit_transition(projet_id, info.reference, "refusee", key, etape)
            publish_progress(projet_id, key)
            problems = result.problems
            continue
        assert result.decision is not None
        emit_transition(projet_id, info.reference, result.decision.value, key, etape)
        next_run = None
        if result.next_stage is not None and result.next_attempt is not None:
            # Started before the e-mails: the people waiting for the next stage should not wait for them.
            next_run = start_stage_run(projet_id, result.next_stage, result.next_attempt)
        notify_decision(projet_id, etape, key, run_id)
        publish_progress(projet_id, key)
        if result.decision == Decision.REJECT:
            problems = [f"rejet enregistré : {answer.motif}"] if answer.motif else []
            continue
        if result.decision in (Decision.SUSPEND, Decision.RESUME):
            # The same gate asks again (its description shows the stop): « reprendre », then the decision.
            problems = []
            continue
        if result.launched:
            emit_transition(projet_id, info.reference, "lancee", key)
            notify_launch(projet_id, run_id)
            return StageOutcome(projet_id=projet_id, etape=etape, statut="lancee", saisies=saisie)
        assert result.next_stage is not None and next_run is not None
        return StageOutcome(
            projet_id=projet_id,
            etape=etape,
            statut="validee" if result.decision == Decision.APPROVE else "renvoyee",
            saisies=saisie,
            etape_suivante=result.next_stage,
            run_suivant=str(next_run),
        )
