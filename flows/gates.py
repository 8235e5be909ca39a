"""The French forms shown in the Prefect UI at each stage gate.

Only the JSON schema is checked by the server when a person clicks « Reprendre » (Resume); every rule that
needs the database (role, territory, SIAE kind, launch date) is checked after the resume by the ``decide``
task, which re-asks with the problems shown. So these models stay permissive on purpose: a field that is
wrong for the decision taken is reported in French, never as a raw schema error.
"""

from datetime import date
from typing import Annotated, Any, cast

from prefect import suspend_flow_run
from prefect.input import RunInput, keyset_from_paused_state, read_flow_run_input
from prefect.states import Suspended
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, JsonValue, TypeAdapter, create_model
from pydantic_core import PydanticUndefined

from implantation import fault_points
from implantation.config.loader import get_process_config
from implantation.config.schema import DecisionKind, ProcessConfig
from implantation.dossier import Facts
from implantation.enums import Decision
from implantation.gate_fields import NO, UNCHANGED, YES, choices_of, facts_model, kind_of, row_model

# An answer stored before these fields were plain strings holds ``null``; it must still replay.
Text = Annotated[str, BeforeValidator(lambda value: "" if value is None else value)]


def _code_required(schema: dict[str, Any]) -> None:
    """The code is required in the form (no « Optional » in the UI, refused empty by the server) while the
    model keeps a default: an answer stored without it still replays."""
    required = schema.setdefault("required", [])
    if "code" not in required:
        required.insert(required.index("approbateur") + 1 if "approbateur" in required else 0, "code")


class GateInput(RunInput):
    """Décision à l'issue de l'étape."""

    model_config = ConfigDict(json_schema_extra=_code_required)

    approbateur: str = Field(
        title="Adresse électronique de l'approbateur",
        description="L'adresse enregistrée de la personne qui décide ; son rôle et son territoire sont vérifiés.",
        min_length=3,
        max_length=254,
    )
    # Required in the form's schema (see ``_code_required``): no decision is accepted without it.
    code: Text = Field(
        default="",
        title="Code reçu par courriel",
        description="Votre code personnel, donné dans le courriel qui demande la décision (ex. ABCDE-23456).",
        max_length=40,
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


NO_STAGE = "(aucune)"
# A choice from the list of earlier stages (« 2 — Réaliser le sourcing des SIAE »); answers stored when it
# was a number (or null) still replay.
StageRef = Annotated[str, BeforeValidator(lambda value: NO_STAGE if value is None else str(value))]


def stage_choice(cfg: ProcessConfig, number: int) -> str:
    """How an earlier stage is offered in the send-back list: its number, then its title."""
    return f"{number} — {cfg.stage(number).titre}"


def _send_back_field(cfg: ProcessConfig, stage: int) -> dict[str, Any]:
    """The earlier stages as a list, by number and title: nothing to type, no type switch to flip."""
    earlier = [stage_choice(cfg, number) for number in cfg.stage_numbers if number < stage]
    if not earlier:
        return {}
    return {
        "etape_renvoi": (
            StageRef,
            Field(
                default=NO_STAGE,
                title="Étape de renvoi",
                description="Seulement pour un renvoi : l'étape précédente à rouvrir.",
                json_schema_extra={"enum": [NO_STAGE, *earlier]},
            ),
        )
    }


OVERRIDDEN = {"copil": "le nombre minimal de COPIL", "livrables": "les livrables"}


def _override_field(cfg: ProcessConfig, stage: int) -> dict[str, Any]:
    """The pilot's motivated override, at the stages that require what ``derogation_pilote`` lets go."""
    kinds = cfg.overridable(stage)
    if not kinds:
        return {}
    pilots = ", ".join(role.label for role in cfg.stage(stage).pilotes)
    what = " et ".join(OVERRIDDEN[kind] for kind in kinds)
    return {
        "derogation": (
            Text,
            Field(
                default="",
                title="Dérogation motivée (pilote de l'étape)",
                description=f"Pour approuver sans {what} enregistrés : le motif de la dérogation. Réservée "
                f"aux pilotes de l'étape ({pilots}) ; inscrite au journal avec ce qui manquait.",
                max_length=4000,
            ),
        )
    }


NO_SIAE = "(aucune)"
# A choice from the list of SIAEs (« SIRET — nom (type) »); answers stored when it was an id still replay.
SiaeRef = Annotated[str, BeforeValidator(lambda value: NO_SIAE if value is None else str(value))]


class SourcingGateInput(GateInput):
    """Sélection de la SIAE : SIAE sourcées, SIAE retenue et activité."""

    siae_sourcees: list[SiaeRef] = Field(
        default_factory=list,
        title="SIAE sourcées",
        description="Les SIAE rencontrées, volontaires et en capacité, choisies dans la liste.",
    )
    siae_retenue: SiaeRef = Field(
        default=NO_SIAE,
        title="SIAE retenue",
        description="Une des SIAE sourcées ; seuls certains types de SIAE sont implantables (voir ci-dessus).",
    )
    activite: Text = Field(
        default="", title="Activité retenue", description="Par exemple : tri de textiles.", max_length=300
    )


class LaunchGateInput(GateInput):
    """Lancement : date de démarrage de l'activité."""

    date_lancement: date | None = Field(
        default=None,
        title="Date de démarrage de l'activité",
        description="Hors périodes de congés (voir ci-dessus), week-ends et jours fériés du département.",
    )


def _base(cfg: ProcessConfig, stage: int) -> type[GateInput]:
    if cfg.has(stage, DecisionKind.SIAE_SELECTION):
        return SourcingGateInput
    if cfg.has(stage, DecisionKind.LAUNCH):
        return LaunchGateInput
    return GateInput


def _build(cfg: ProcessConfig, stage: int) -> type[GateInput]:
    """The stage's form: the fields of its decisions, then one box per checklist item of ``etapes.toml``.

    Built from the configuration so that an item added there is asked here, and ``decide``, which
    requires every item, can always be satisfied.
    """
    spec = cfg.stage(stage)
    # The decision's own fields first (motive, override, send-back), then those of the decision's kind.
    fields: dict[str, Any] = {**_override_field(cfg, stage), **_send_back_field(cfg, stage)}
    for name, info in _base(cfg, stage).model_fields.items():
        if name not in GateInput.model_fields:
            fields[name] = (
                Annotated[info.annotation, *info.metadata] if info.metadata else info.annotation,
                info,
            )
    if cfg.has(stage, DecisionKind.SIAE_SELECTION):
        kinds = " ou un ".join(kind.value for kind in cfg.eligibility.types_siae_implantables)
        fields["siae_retenue"] = (
            SiaeRef,
            Field(
                default=NO_SIAE,
                title="SIAE retenue",
                description=f"Une des SIAE sourcées ; elle doit être un {kinds}.",
            ),
        )
    if cfg.has(stage, DecisionKind.LAUNCH):
        periods = ", ".join(
            p.nom[:1].lower() + p.nom[1:] for p in cfg.calendar.periodes_a_eviter_pour_lancement
        )
        fields["date_lancement"] = (
            date | None,
            Field(
                default=None,
                title="Date de démarrage de l'activité",
                description=f"Hors {periods}, week-ends et jours fériés du département.",
            ),
        )
    facts = facts_model(cfg, stage)
    if facts is not None:
        fields.update(_facts_fields(facts))
    for item in cfg.checklist(stage):
        fields[item.id] = (bool, Field(default=False, title=item.titre[:1].upper() + item.titre[1:]))
    doc = f"Étape {stage} : {' ; '.join(d.titre for d in spec.decisions)}."
    return create_model(f"Etape{stage}GateInput", __base__=GateInput, __doc__=doc, **fields)


HINTS = {
    "text": "Laisser vide : la valeur enregistrée est gardée.",
    "integer": "Nombre entier ; laisser vide : la valeur enregistrée est gardée.",
    "number": "Nombre, par exemple 1,5 ; laisser vide : la valeur enregistrée est gardée.",
    "date": "Date AAAA-MM-JJ (ou JJ/MM/AAAA) ; laisser vide : la valeur enregistrée est gardée.",
    "rows": "Une ligne par élément (« Add item » ajoute une ligne). La liste saisie remplace la liste "
    "enregistrée ; laissée vide, la liste enregistrée est gardée.",
}


ROW_TITLES = {"LigneBudget": "Ligne du budget prévisionnel", "Poste": "Poste de travail"}


def _row_form(model: type[Facts]) -> type[BaseModel]:
    """One line of a list (budget line, post), every value a plain box or a drop-down the UI draws."""
    fields: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        title = info.title or name
        choices = choices_of(info.annotation)
        if choices is not None:
            default = choices[0] if info.default is PydanticUndefined else info.default
            fields[name] = (
                type(choices[0]),
                Field(default=default, title=title, json_schema_extra={"enum": choices}),
            )
        else:
            hint = {"number": "Nombre, par exemple 1,5.", "integer": "Nombre entier."}.get(
                kind_of(info.annotation)
            )
            fields[name] = (Text, Field(default="", title=title, description=hint, max_length=5000))
    title = ROW_TITLES.get(model.__name__, model.__name__)
    return create_model(f"{model.__name__}Saisie", __config__=ConfigDict(title=title), **fields)


def _facts_fields(model: type[Facts]) -> dict[str, Any]:
    """The fields of a stage's facts (``implantation.dossier``), under the same keys as the dossier file.

    Text only, so that an empty box means « unchanged » and the UI never shows a type switch; the values
    are checked after the answer by the domain rules (``implantation.services.gate_facts``).
    """
    fields: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        title, kind = info.title or name, kind_of(info.annotation)
        rows = row_model(info.annotation)
        if rows is not None:
            fields[name] = (
                list[_row_form(rows)],  # type: ignore[misc]
                Field(default_factory=list, title=title, description=HINTS["rows"]),
            )
        elif kind == "bool":
            fields[name] = (
                Text,
                Field(default=UNCHANGED, title=title, json_schema_extra={"enum": [UNCHANGED, YES, NO]}),
            )
        else:
            fields[name] = (Text, Field(default="", title=title, description=HINTS[kind], max_length=5000))
    return fields


_FORMS: dict[tuple[int, int], tuple[ProcessConfig, type[GateInput]]] = {}


def form_for(stage: int, cfg: ProcessConfig | None = None) -> type[GateInput]:
    """One class per configuration and stage, so a replay validates its stored answer with the same form."""
    cfg = cfg or get_process_config()
    cached = _FORMS.get((id(cfg), stage))
    if cached is None or cached[0] is not cfg:
        cached = _FORMS[(id(cfg), stage)] = (cfg, _build(cfg, stage))
    return cached[1]


def with_choices(form: type[GateInput], siaes: list[str]) -> type[GateInput]:
    """``form`` whose SIAE fields offer ``siaes`` (labels of the referential) as lists.

    The lists live in the JSON schema only: the server checks a resume against them, so a person picks
    rather than types, while the model stays permissive and a stored answer replays even if the
    referential changed since.
    """
    if not siaes or "siae_retenue" not in form.model_fields:
        return form
    sourced = form.model_fields["siae_sourcees"]
    selected = form.model_fields["siae_retenue"]
    offered: list[JsonValue] = list(siaes)
    return create_model(
        form.__name__,
        __base__=form,
        __doc__=form.__doc__,
        siae_sourcees=(
            list[SiaeRef],
            Field(
                default_factory=list,
                title=sourced.title,
                description=sourced.description,
                json_schema_extra={"items": {"type": "string", "enum": offered}},
            ),
        ),
        siae_retenue=(
            SiaeRef,
            Field(
                default=NO_SIAE,
                title=selected.title,
                description=selected.description,
                json_schema_extra={"enum": [NO_SIAE, *siaes]},
            ),
        ),
    )


def prefilled(form: type[GateInput], values: dict[str, Any]) -> type[GateInput]:
    """``form`` showing ``values`` (the recorded facts) in its fields, titles and help kept.

    Prefect's ``with_initial_data`` would drop each field's title and description.
    """
    fields: dict[str, Any] = {}
    for name, value in values.items():
        info = form.model_fields.get(name)
        if info is None:
            continue
        annotation = Annotated[info.annotation, *info.metadata] if info.metadata else info.annotation
        fields[name] = (
            annotation,
            Field(
                default=TypeAdapter(annotation).validate_python(value),  # type: ignore[arg-type]
                title=info.title,
                description=info.description,
                json_schema_extra=info.json_schema_extra,
            ),
        )
    if not fields:
        return form
    return create_model(form.__name__, __base__=form, __doc__=form.__doc__, **fields)


def collects_facts(stage: int, cfg: ProcessConfig | None = None) -> bool:
    """Does the gate of ``stage`` ask its stage's facts? The other gates skip reading them (one task less)."""
    return facts_model(cfg or get_process_config(), stage) is not None


def offers_choices(stage: int, cfg: ProcessConfig | None = None) -> bool:
    """Does the gate of ``stage`` offer the SIAEs as lists? The other gates skip reading them."""
    return (cfg or get_process_config()).has(stage, DecisionKind.SIAE_SELECTION)


def carried(answer: dict[str, Any], shown: dict[str, Any]) -> dict[str, Any]:
    """The facts a refused answer changed: shown again in the re-asked form, so nothing typed is lost."""
    return {name: answer[name] for name in shown if name in answer and answer[name] != shown[name]}


def answered(form: type[GateInput], key: str) -> GateInput | None:
    """The answer this ask already received, on a replay; ``None`` the first time it is asked.

    Prefect stores an answer under the key's response key only when it resumes the run with it, so a
    stored answer means this ask fired, and every step before it ran. The flow then skips those steps
    instead of replaying each one from its cache: a replayed task run costs the same events and state
    rows as a real one. ``form`` without its lists validates the answer: they live in the schema only.
    """
    keyset = keyset_from_paused_state(Suspended(pause_key=key))
    given = cast(dict[str, Any] | None, read_flow_run_input(keyset["response"]))  # called synchronously
    if given is None:
        return None
    fault_points.point("reponse")
    return form(**given)


def ask(form: type[GateInput], key: str) -> GateInput:
    """The gate's question: suspend the run until someone answers ``form`` (see :func:`answered` first).

    On a replay, :func:`answered` reads the stored answer directly: ``suspend_flow_run`` would first propose
    a Suspended state the server refuses, while the person who clicked waits (figure in benchmarks/README.md).
    """
    return suspend_flow_run(wait_for_input=form, key=key, timeout=None)
