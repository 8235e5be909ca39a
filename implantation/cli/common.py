"""What every command shares: consoles, the database of the settings, and French error handling.

Every expected failure becomes one French message on stderr and exit code 1; nothing written
stays written (the unit of work rolls back) and no traceback is shown unless SIAE_DEBUG=1.
"""

import argparse
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import typer
from rich.console import Console

from implantation.services.errors import DomainError
from implantation.transitions import TransitionError

if TYPE_CHECKING:  # imported where used: the database and configuration stacks are slow to load
    from sqlalchemy.engine import Engine
    from sqlmodel import Session

    from implantation.config.schema import ProcessConfig
    from implantation.settings import Settings

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


def widen_piped_output(width: int = 160) -> None:
    """Piped output (CI logs, `make demo | tee`) would otherwise be squeezed into 80 columns."""
    if not os.isatty(1):
        os.environ.setdefault("COLUMNS", str(width))


def fail(message: str, code: int = 1) -> NoReturn:
    err.print(f"[bold red]Erreur :[/] {_escape(message)}")
    raise typer.Exit(code=code)


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def debug() -> bool:
    return os.environ.get("SIAE_DEBUG") == "1"


@contextmanager
def handled() -> Iterator[None]:
    """Turn every failure into a French message and a non-zero exit code."""
    try:
        yield
    except typer.Exit:
        raise
    except Exception as exc:
        _report(exc)


def _loaded(module: str, name: str) -> type[BaseException] | None:
    """An exception class of a module already imported: an error cannot come from a module never loaded,
    so the start-up does not pay for importing SQLAlchemy or pydantic only to classify errors."""
    loaded = sys.modules.get(module)
    return getattr(loaded, name, None) if loaded else None


def _is(exc: BaseException, module: str, name: str) -> bool:
    kind = _loaded(module, name)
    return kind is not None and isinstance(exc, kind)


def _report(exc: Exception) -> NoReturn:
    if _is(exc, "implantation.services.referential", "InputError"):
        err.print("[bold red]Erreur :[/] saisie refusée, rien n'a été enregistré.")
        for problem in exc.problems:  # type: ignore[attr-defined]
            err.print(f"  • {_escape(problem)}")
        raise typer.Exit(code=1) from None
    if isinstance(exc, (DomainError, TransitionError)) or _is(
        exc, "implantation.config.loader", "ConfigError"
    ):
        fail(str(exc))
    if _is(exc, "pydantic", "ValidationError"):
        first = exc.errors()[0]  # type: ignore[attr-defined]
        if first["type"] == "value_error" and exc.title == "Settings":  # type: ignore[attr-defined]
            fail(str(first["ctx"]["error"]))  # a refused setting: the message names its variable
        where = ".".join(str(part) for part in first["loc"]) or "(racine)"
        fail(f"valeur invalide pour « {where} » (paramètres SIAE_… ou saisie).")
    if debug():
        raise exc
    if _is(exc, "sqlalchemy.exc", "OperationalError"):
        fail(f"base de données injoignable ou indisponible ({type(exc).__name__}) ; rien n'a été enregistré.")
    if _is(exc, "sqlalchemy.exc", "SQLAlchemyError"):
        fail(f"la base de données a refusé l'opération ({type(exc).__name__}) ; rien n'a été enregistré.")
    if isinstance(exc, OSError):
        fail(f"accès impossible au fichier « {exc.filename or ''} » ({exc.strerror or type(exc).__name__}).")
    fail(
        f"erreur inattendue ({type(exc).__name__}) ; rien n'a été enregistré. "
        "Relancer avec SIAE_DEBUG=1 pour obtenir le détail technique."
    )


def settings() -> "Settings":
    from implantation.settings import get_settings

    return get_settings()


def process_config() -> "ProcessConfig":
    from implantation.config.loader import get_process_config

    return get_process_config(settings().config_dir)


def database_url() -> str:
    return settings().effective_database_url


def _sqlite_missing(url: str) -> Path | None:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        path = Path(parsed.database)
        return None if path.exists() else path
    return None


def check_current(engine: "Engine") -> None:
    """Refuse a database whose schema is not the code's, without loading Alembic (read from the files)."""
    from implantation.db.revision import database_revision, script_head

    current, head = database_revision(engine), script_head()
    if current != head:
        state = "n'est pas initialisée" if current is None else f"est à la révision {current}, et non {head}"
        raise DomainError(f"La base de données {state} : lancer « siae migrer ».", field="base")


@contextmanager
def database() -> Iterator["Session"]:
    """One unit of work on the configured database, refused if its schema is not current."""
    from implantation.db.session import make_engine, session_scope

    url = database_url()
    missing = _sqlite_missing(url)
    if missing is not None:
        raise DomainError(f"Base de données absente ({missing}) : lancer « siae migrer ».", field="base")
    engine = make_engine(url)
    try:
        check_current(engine)
        with session_scope(engine) as session:
            yield session
    finally:
        engine.dispose()


def parse_id(raw: str, field: str) -> int:
    text = raw.strip()
    if not text.isdigit() or len(text) > 12:
        raise DomainError(
            f"Champ « {field} » : identifiant numérique attendu, lu « {raw[:40]} ».", field=field
        )
    return int(text)


def fmt(day: date | None) -> str:
    return f"{day:%d/%m/%Y}" if day else "—"


_ARGPARSE_FRENCH = (
    ("unrecognized arguments", "arguments non reconnus"),
    ("the following arguments are required", "arguments obligatoires manquants"),
    ("expected one argument", "une valeur est attendue"),
    ("invalid int value", "nombre entier invalide"),
    ("invalid float value", "nombre invalide"),
    ("invalid choice", "choix invalide"),
    ("argument ", "option "),
)


class FrenchArgumentParser(argparse.ArgumentParser):
    """argparse for the module entry points (demo, serve, benchmarks), with its help and errors in French."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["add_help"] = False
        super().__init__(*args, **kwargs)
        self.add_argument("-h", "--help", action="help", help="Afficher cette aide et quitter")

    def format_usage(self) -> str:
        return super().format_usage().replace("usage: ", "utilisation : ", 1)

    def format_help(self) -> str:
        return super().format_help().replace("usage: ", "utilisation : ", 1)

    def error(self, message: str) -> NoReturn:
        for english, french in _ARGPARSE_FRENCH:
            message = message.replace(english, french)
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog} : erreur : {message}\n")
