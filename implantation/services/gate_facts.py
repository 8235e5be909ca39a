"""The facts a stage produces, entered in its gate form: pre-filled from what is recorded, read back, saved.

The gate forms of the stages that produce facts (the ``faits`` key of a decision in ``etapes.toml``,
models in :data:`implantation.gate_fields.FACT_GROUPS`) carry the fields of the same pydantic model as ``siae projet completer``
(:mod:`implantation.dossier`), under the same keys, and are validated by the same rules
(:func:`~implantation.services.dossier.merged_problems` then :func:`~implantation.services.dossier.complete`).

The form shows every value as text (« 1,5 », « 2027-03-02 »): a number or a date that may stay empty
would otherwise be drawn by the Prefect UI as a type switch to flip before typing. What counts as entered
is what differs from the value the form showed when it was asked (``shown``): an untouched field,
an emptied field and a list emptied of its lines change nothing, and a value changed with the command
while the form waited is not overwritten by the form's stale copy.
"""

import re
from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlmodel import Session

from implantation.config.schema import ProcessConfig
from implantation.db.models import ImplantationProject, Person
from implantation.dossier import Dossier, Facts, french_problems
from implantation.gate_fields import (
    NO,
    UNCHANGED,
    YES,
    choices_of,
    facts_model,
    kind_of,
    row_model,
)
from implantation.services.dossier import complete, merged_problems, recorded
from implantation.services.workflow import Actor

_FR_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


# --- recorded values as the form shows them -------------------------------------------------------


def _text(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return YES if value else NO
    if isinstance(value, Decimal):
        return format(value.normalize(), "f").replace(".", ",")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def _row_values(model: type[Facts], row: BaseModel) -> dict[str, Any]:
    values = {}
    for name, info in model.model_fields.items():
        value = getattr(row, name)
        values[name] = value if choices_of(info.annotation) is not None else _text(value)
    return values


def form_values(model: type[Facts], dossier: Dossier) -> dict[str, Any]:
    """The value of every field of ``model`` as the form shows it ("" or (inchangé) when nothing is recorded)."""
    values: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        value = getattr(dossier, name)
        rows = row_model(info.annotation)
        if rows is not None:
            values[name] = [_row_values(rows, row) for row in value or []]
        elif kind_of(info.annotation) == "bool" and value is None:
            values[name] = UNCHANGED
        else:
            values[name] = _text(value)
    return values


def shown_values(
    session: Session, cfg: ProcessConfig, project: ImplantationProject, stage: int
) -> dict[str, Any]:
    """What the gate form of ``stage`` pre-fills: the recorded facts of its model, {} when it has none."""
    model = facts_model(cfg, stage)
    return {} if model is None else form_values(model, recorded(session, project))


# --- an answer read back --------------------------------------------------------------------------


def _empty(value: Any) -> bool:
    return value is None or value == UNCHANGED or (isinstance(value, str | list) and not value)


def _clean_row(row: Any) -> Any:
    """A line without its empty cells; a line left entirely empty (« Add item » clicked once too many) is None."""
    if not isinstance(row, dict):
        return row
    kept = {k: v.strip() if isinstance(v, str) else v for k, v in row.items()}
    kept = {k: v for k, v in kept.items() if not _empty(v)}
    return kept or None


def _normalised(value: Any) -> Any:
    if isinstance(value, list):
        rows = [_clean_row(r) for r in value]
        return [r for r in rows if r is not None]
    if isinstance(value, str):
        return value.strip()
    return value


def _typed(kind: str, value: Any) -> Any:
    if kind == "bool":
        return {YES: True, NO: False}.get(value, value)
    if kind == "date" and isinstance(value, str):
        found = _FR_DATE.match(value)
        if found:
            day, month, year = found.groups()
            return f"{year}-{int(month):02d}-{int(day):02d}"
    return value


def entered(model: type[Facts], answer: dict[str, Any], shown: dict[str, Any]) -> dict[str, Any]:
    """The fields the person changed in the form, as the dossier's keys and values (not yet validated)."""
    data: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        if name not in answer:
            continue
        value = _normalised(answer[name])
        if _empty(value) or value == _normalised(shown.get(name)):
            continue
        data[name] = _typed(kind_of(info.annotation), value)
    return data


def field_title(model: type[BaseModel], where: str) -> str:
    """« Budget prévisionnel (années 1 et 2) », ligne 2, « Montant annuel (euros) » for ``budget[2].montant``."""
    found = re.match(r"^(\w+)(?:\[(\d+)\])?(?:\.(\w+))?$", where)
    if not found or found.group(1) not in model.model_fields:
        return f"« {where} »"
    name, line, sub = found.groups()
    info = model.model_fields[name]
    text = f"« {info.title or name} »"
    if line:
        text += f", ligne {line}"
    rows = row_model(info.annotation)
    if sub and rows is not None and sub in rows.model_fields:
        text += f", « {rows.model_fields[sub].title or sub} »"
    return text


_KEY = re.compile(r"clé « ([^»]+) » : ")


def in_form_words(model: type[BaseModel], problem: str) -> str:
    """A problem stated for the file (« clé « budget[2].montant » : … ») restated for the form.

    A rule across fields states its first key bare (« postes_etp (3) dépasse … »): that field is named.
    """
    if not _KEY.match(problem):
        first = re.match(r"^(\w+) ", problem)
        if first and first.group(1) in model.model_fields:
            return f"champ {field_title(model, first.group(1))} : {problem}"
    return _KEY.sub(lambda m: f"champ {field_title(model, m.group(1))} : ", problem)


def read(model: type[Facts], answer: dict[str, Any], shown: dict[str, Any]) -> tuple[Dossier, list[str]]:
    """The facts entered in the answer, checked alone by the domain models; problems name each field."""
    data = entered(model, answer, shown)
    try:
        model.model_validate(data)
        return Dossier.model_validate(data), []
    except ValidationError as exc:
        return Dossier(), [in_form_words(model, p) for p in french_problems(exc)]


def problems_with_recorded(
    session: Session, cfg: ProcessConfig, project: ImplantationProject, model: type[Facts], dossier: Dossier
) -> list[str]:
    """The rules that need what is recorded (periods, ETP within posts, start date), in the form's words."""
    if not dossier.model_fields_set:
        return []
    return [in_form_words(model, p) for p in merged_problems(session, cfg, project, dossier)]


def save(
    session: Session,
    cfg: ProcessConfig,
    project: ImplantationProject,
    dossier: Dossier,
    approver: Person,
    stage: int,
) -> int:
    """Record the entered facts, each change logged with the approver (person and address); returns how many."""
    if not dossier.model_fields_set:
        return 0
    source = f"formulaire de l'étape {stage} ({approver.email})"[:300]
    return len(complete(session, cfg, project, dossier, Actor.of(approver), source=source))
