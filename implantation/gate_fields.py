"""The fields of a gate form that carries a stage's facts: which model, and what kind each field is.

Pure reading of the dossier's models and the configuration, without the database: the form is built from
it (:mod:`flows.gates`), and the service that pre-fills and saves the facts
(:mod:`implantation.services.gate_facts`) reads the same kinds.
"""

import types
import typing
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from implantation.config.schema import FactsGroup, ProcessConfig
from implantation.dossier import STAGE_MODELS, Facts

FACT_GROUPS: dict[str, type[Facts]] = {
    group: STAGE_MODELS[int(group.removeprefix("etape"))] for group in typing.get_args(FactsGroup)
}
"""The models behind the ``faits`` key of a decision in ``etapes.toml``."""

UNCHANGED = "(inchangé)"
YES, NO = "oui", "non"


def facts_model(cfg: ProcessConfig, stage: int) -> type[Facts] | None:
    """The facts collected at the gate of ``stage``, if its decision produces any."""
    for decision in cfg.stage(stage).decisions:
        if decision.faits is not None:
            return FACT_GROUPS[decision.faits]
    return None


# --- the kind of each field, read from the domain model -------------------------------------------


def unwrap(annotation: Any) -> Any:
    """``X | None`` → ``X``; ``Annotated[X, …]`` → ``X``."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        kept = [a for a in typing.get_args(annotation) if a is not type(None)]
        annotation = kept[0]
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    return annotation


def row_model(annotation: Any) -> type[Facts] | None:
    """The model of one line when the field is a list of lines (budget, posts)."""
    bare = unwrap(annotation)
    if typing.get_origin(bare) is list:
        item = typing.get_args(bare)[0]
        if isinstance(item, type) and issubclass(item, Facts):
            return item
    return None


def choices_of(annotation: Any) -> list[Any] | None:
    """The admitted values of a ``Literal`` field (nature, year)."""
    bare = unwrap(annotation)
    return list(typing.get_args(bare)) if typing.get_origin(bare) is Literal else None


def kind_of(annotation: Any) -> str:
    bare = unwrap(annotation)
    if row_model(annotation) is not None:
        return "rows"
    if bare is bool:
        return "bool"
    if bare is date:
        return "date"
    if bare is int:
        return "integer"
    if bare is Decimal:
        return "number"
    return "text"
