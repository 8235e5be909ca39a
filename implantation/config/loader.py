"""Loads and validates ``config/*.toml``; a broken file stops everything with one French message."""

import re
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from implantation.config.schema import (
    CalendarFile,
    ContractsFile,
    DemonstrationAmounts,
    DocumentsFile,
    EligibilityFile,
    MoneyFile,
    ProcessConfig,
    StagesFile,
    TerritoryFile,
)

FILES: dict[str, tuple[str, type[BaseModel]]] = {
    "stages": ("etapes.toml", StagesFile),
    "documents": ("documents.toml", DocumentsFile),
    "money": ("montants.toml", MoneyFile),
    "calendar": ("calendrier.toml", CalendarFile),
    "eligibility": ("eligibilite.toml", EligibilityFile),
    "territory": ("territoires.toml", TerritoryFile),
    "contracts": ("contrats.toml", ContractsFile),
}

_FRENCH = {
    "missing": "valeur obligatoire manquante",
    "extra_forbidden": "clé inconnue",
    "int_parsing": "nombre entier attendu",
    "int_type": "nombre entier attendu",
    "decimal_parsing": "nombre décimal attendu",
    "decimal_type": "nombre décimal attendu",
    "string_type": "texte attendu",
    "list_type": "liste attendue",
    "dict_type": "table attendue",
    "date_from_datetime_parsing": "date attendue (AAAA-MM-JJ)",
    "date_type": "date attendue (AAAA-MM-JJ)",
    "date_parsing": "date attendue (AAAA-MM-JJ)",
    "enum": "valeur non reconnue",
    "greater_than_equal": "valeur trop petite",
    "less_than_equal": "valeur trop grande",
    "too_short": "liste trop courte",
    "too_long": "liste trop longue",
    "string_pattern_mismatch": "format invalide",
    "bool_type": "booléen attendu (true ou false)",
    "bool_parsing": "booléen attendu (true ou false)",
}


class ConfigError(Exception):
    """Invalid configuration; ``str(err)`` names the file, the key and the problem in French."""


def _french(error: Any) -> str:
    kind = error["type"]
    if kind == "value_error":
        return str(error.get("ctx", {}).get("error", error["msg"]))
    text = _FRENCH.get(kind, "valeur invalide")
    ctx = error.get("ctx", {})
    if kind == "enum":
        expected = str(ctx.get("expected", "")).replace("' or '", "' ou '")
        text += f" « {error.get('input')} » (valeurs possibles : {expected})"
    elif kind in ("greater_than_equal", "less_than_equal") and ctx:
        text += f" (limite : {ctx.get('ge', ctx.get('le'))})"
    elif kind == "too_short" and ctx:
        text += f" (au moins {ctx['min_length']} éléments attendus, {ctx['actual_length']} lus)"
    elif kind == "too_long" and ctx:
        text += f" (au plus {ctx['max_length']} éléments attendus, {ctx.get('actual_length', '?')} lus)"
    return text


def _key(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if part == "[key]":  # pydantic's marker for an invalid dictionary key: the key itself is wrong
            continue
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(racine)"


def _toml_where(exc: tomllib.TOMLDecodeError) -> str:
    """tomllib speaks English; keep its detail but say where in French."""
    found = re.search(r"^(.*) \(at line (\d+), column (\d+)\)$", str(exc))
    if found is None:
        return f"détail : {exc}"
    return f"erreur de syntaxe ligne {found[2]}, colonne {found[3]} ; détail : {found[1]}"


def load_file(path: Path, model: type[BaseModel]) -> BaseModel:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"Configuration : fichier introuvable « {path} ».") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"Configuration : « {path.name} » n'est pas un TOML valide ({_toml_where(exc)})."
        ) from None
    except UnicodeDecodeError:
        raise ConfigError(f"Configuration : « {path.name} » n'est pas encodé en UTF-8.") from None
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        more = f" (et {exc.error_count() - 1} autre(s) erreur(s))" if exc.error_count() > 1 else ""
        raise ConfigError(
            f"Configuration : fichier « {path.name} », clé « {_key(first['loc'])} » : {_french(first)}{more}."
        ) from None


DEMO_FILE = "montants_demonstration.toml"


def load_process_config(config_dir: Path) -> ProcessConfig:
    parts = {name: load_file(config_dir / filename, model) for name, (filename, model) in FILES.items()}
    overlay = config_dir / DEMO_FILE
    if overlay.exists():  # only in a demonstration copy (demo_config); never shipped in config/
        extra = load_file(overlay, DemonstrationAmounts)
        assert isinstance(extra, DemonstrationAmounts) and isinstance(parts["money"], MoneyFile)
        try:
            parts["money"] = parts["money"].with_demonstration(extra)
        except ValueError as exc:
            raise ConfigError(f"Configuration : fichier « {DEMO_FILE} » : {exc}.") from None
    return ProcessConfig(**parts)


# The files' (mtime, size) when each cached configuration was read.
_STAMPS: dict[str, list[tuple[int, int] | None]] = {}


def _stamp(config_dir: Path) -> list[tuple[int, int] | None]:
    stamps: list[tuple[int, int] | None] = []
    for filename in [*(f for f, _model in FILES.values()), DEMO_FILE]:
        try:
            info = (config_dir / filename).stat()
        except OSError:
            stamps.append(None)
        else:
            stamps.append((info.st_mtime_ns, info.st_size))
    return stamps


@lru_cache
def _cached(config_dir: str) -> ProcessConfig:
    _STAMPS[config_dir] = _stamp(Path(config_dir))
    return load_process_config(Path(config_dir))


def forget_cached_if_changed() -> None:
    """For the warm command-line server, which outlives an edit of the files: a changed file is read
    again. A runner keeps the configuration it started with, as before."""
    if any(_stamp(Path(d)) != stamps for d, stamps in _STAMPS.items()):
        _cached.cache_clear()
        _STAMPS.clear()


def get_process_config(config_dir: Path | None = None) -> ProcessConfig:
    if config_dir is None:
        from implantation.settings import get_settings

        config_dir = get_settings().config_dir
    return _cached(str(config_dir))


DEMO_AMOUNTS = "echantillons/montants_demonstration.toml"


def config_copy(source_dir: Path, target_dir: Path, extra_amounts: Path | None = None) -> Path:
    """A copy of ``source_dir``'s TOML files in ``target_dir``, with ``extra_amounts`` as its demonstration
    amounts (``montants_demonstration.toml``, each value flagged and printed as such).

    The demonstration and the end-to-end tests need values no text sets (the AT/MP rate of an establishment
    that received no notice): they run on such a copy, never on the shipped files.
    """
    target_dir.mkdir(parents=True, exist_ok=True)
    for path in source_dir.glob("*.toml"):
        (target_dir / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    overlay = target_dir / DEMO_FILE
    if extra_amounts is not None:
        overlay.write_text(extra_amounts.read_text(encoding="utf-8"), encoding="utf-8")
    load_process_config(target_dir)  # a broken overlay fails here, with the usual French message
    return target_dir


def demo_config(target_dir: Path, source_dir: Path | None = None) -> Path:
    """``config/`` plus the demonstration amounts of ``config/echantillons`` (``make demo``, parcours tests)."""
    if source_dir is None:
        from implantation.settings import PROJECT_ROOT

        source_dir = PROJECT_ROOT / "config"
    return config_copy(source_dir, target_dir, source_dir / DEMO_AMOUNTS)
