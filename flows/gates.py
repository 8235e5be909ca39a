"""The French forms shown in the Prefect UI at each stage gate.

Only the JSON schema is checked by the server when a person clicks « Reprendre » (Resume); every rule that
needs the database (role, territory, SIAE kind, launch date) is checked after the resume by the ``decide``
task, which re-asks with the problems shown. So these models stay permissive on purpose: a field that is
wrong for the decision taken is reported in French, never as a raw schema error.
"""

from datetime import date
from typing import Annotated

from prefect import suspend_flow_run
from prefect.input import RunInput, keyset_from_paused_state, read_flow_run_input
from prefect.states import Suspended
from pydantic import BeforeValidator, Field

from implantation.enums import Decision

# An answer stored before these fields were plain strings holds ``null``; it must still replay.
Text = Annotated[str, BeforeValidator(lambda value: "" if value is None else value)]


class GateInput(RunInput):
    """Décision à l'issue de l'étape."""

    approbateur: str = Field(
        title="Adresse électronique de l'approbateur",
        description="L'adresse enregistrée de la personne qui décide ; son rôle et son territoire sont vérifiés.",
        min_length=3,
        max_length=254,
    )
    decision: Decision = Field(
        title="Décision",
        description="approuver : l'étape est validée ; rejeter : l'étape reste en cours (motif obligatoire) ; "
        "renvoyer : retour à une étape précédente (motif obligatoire) ; suspendre : l'étape attend l'autre "
        "partie, son horloge s'arrête (motif obligatoire : quoi, et de qui) ; reprendre : l'horloge repart.",
    )
    # Plain strings, not ``str | None``: the UI shows an optional value as a type switch (str / None) that
    # a person must flip before typing, which hides the box where a rejection's reason goes.
    motif: Text = Field(
        default="",
        title="Motif",
        description="Obligatoire pour un rejet, un renvoi ou une suspension ; facultatif pour une approbation.",
        max_length=4000,
    )
    etape_renvoi: int | None = Field(
        default=None,
        title="Étape de renvoi",
        description="Numéro de l'étape précédente à rouvrir, seulement pour un renvoi.",
        ge=1,
        le=5,
    )


class SourcingGateInput(GateInput):
    """Étape 2 : SIAE sourcées, SIAE retenue et activité."""

    siae_sourcees: list[int] = Field(
        default_factory=list,
        title="SIAE sourcées (identifiants)",
        description="Identifiants des SIAE rencontrées, volontaires et en capacité (voir la liste ci-dessus).",
    )
    siae_retenue: int | None = Field(
        default=None,
        title="SIAE retenue (identifiant)",
        description="Une des SIAE sourcées ; elle doit être un ACI ou une EI.",
    )
    activite: Text = Field(
        default="", title="Activité retenue", description="Par exemple : tri de textiles.", max_length=300
    )


class ConventionGateInput(GateInput):
    """Étape 5 : la DREETS (ou la DDETS) approuve la convention IAE."""


class LaunchGateInput(GateInput):
    """Étape 6 : liste de lancement et date de démarrage."""

    date_lancement: date | None = Field(
        default=None,
        title="Date de démarrage de l'activité",
        description="Hors congés d'été, vacances de Noël, week-ends et jours fériés du département.",
    )
    locaux_amenages: bool = Field(
        default=False,
        title="Locaux aménagés",
        description="Atelier, bureaux pour les entretiens confidentiels, accès à internet.",
    )
    interlocuteurs_nommes: bool = Field(
        default=False, title="Interlocuteurs nommés", description="Chaque partie a nommé ses interlocuteurs."
    )
    protocole_sortie: bool = Field(
        default=False,
        title="Protocole de préparation à la sortie",
        description="Lien dedans-dehors avec France Travail, la mission locale et les réseaux de SIAE.",
    )


FORMS: dict[int, type[GateInput]] = {
    1: GateInput,
    2: SourcingGateInput,
    3: GateInput,
    4: GateInput,
    5: ConventionGateInput,
    6: LaunchGateInput,
}


def form_for(stage: int) -> type[GateInput]:
    return FORMS[stage]


def ask(form: type[GateInput], key: str) -> GateInput:
    """The gate's question: suspend the run until someone answers ``form``, or, on a replay, the answer given.

    On a replay, Prefect's ``suspend_flow_run`` proposes the Suspended state again only to be refused
    (the key has fired), logs that the run is suspending, then reads the stored answer: 0.2 s on this
    machine while the person who clicked waits. Prefect stores an answer under the key's response key
    only when it resumes the run with it, so a stored answer means this ask already fired.
    """
    keyset = keyset_from_paused_state(Suspended(pause_key=key))
    given = read_flow_run_input(keyset["response"])
    if given is not None:
        return form(**given)
    return suspend_flow_run(wait_for_input=form, key=key, timeout=None)
