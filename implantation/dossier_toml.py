"""A :class:`~implantation.dossier.Dossier` written back as TOML: what ``siae projet completer`` reads.

Used to export the recorded facts for offline editing and by the demo, which enters each stage's facts
through the very file format a person uses. Scalars first, then the arrays of tables (in TOML, every key
after a ``[[table]]`` header belongs to that table).
"""

import json
from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from implantation.dossier import STAGE_MODELS, Dossier


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return json.dumps(format(value.normalize(), "f"))  # quoted: no binary float on the way back
    if isinstance(value, int):
        return str(value)
    return json.dumps(str(value), ensure_ascii=False)  # a JSON string is a valid TOML basic string


def to_toml(dossier: Dossier, keys: set[str] | None = None) -> str:
    """The given keys (default: those set) of the dossier, in the order of the models."""
    wanted = keys if keys is not None else dossier.model_fields_set
    scalars, tables = [], []
    for key in dict.fromkeys(k for n in sorted(STAGE_MODELS) for k in STAGE_MODELS[n].model_fields):
        value = getattr(dossier, key)
        if key not in wanted or value is None:
            continue
        if isinstance(value, list):
            for row in value:
                assert isinstance(row, BaseModel)
                body = [f"{k} = {_value(v)}" for k, v in row.model_dump(exclude_none=True).items()]
                tables.append(f"[[{key}]]\n" + "\n".join(body) + "\n")
        else:
            scalars.append(f"{key} = {_value(value)}")
    return "\n".join(scalars) + ("\n\n" if scalars else "") + "\n".join(tables)
