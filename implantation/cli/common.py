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
from typing import Any, NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlmodel import Session

from implantation.config.loader import ConfigError, get_process_config
from implantation.config.schema import ProcessConfig
from implantation.db.migrate import current_revision, head_revision
from implantation.db.session import make_engine, session_scope
from implantation.services.errors import DomainError
from implantation.services.referential import InputError
from implantation.settings import Settings, get_settings
from implantation.transitions import TransitionError

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
    except InputError as exc:
        err.print("[bold red]Erreur :[/] saisie refusée, rien n'a été enregistré.")
        for problem in exc.problems:
            err.print(f"  • {_escape(problem)}")
        raise typer.Exit(code=1) from None
    except (DomainError, TransitionError, ConfigError) as exc:
        fail(str(exc))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(racine)"
        fail(f"valeur invalide pour « {where} » (paramètres SIAE_… ou saisie).")
    except OperationalError as exc:
        if debug():
            raise
        fail(f"base de données injoignable ou indisponible ({type(exc).__name__}) ; rien n'a été enregistré.")
    except SQLAlchemyError as exc:
        if debug():
            raise
        fail(f"la base de données a refusé l'opération ({type(exc).__name__}) ; rien n'a été enregistré.")
    except OSError as exc:
        if debug():
            raise
        fail(f"accès impossible au fichier « {exc.filename or ''} » ({exc.strerror or type(exc).__name__}).")
    except Exception as exc:
        if debug():
            raise
        fail(
            f"erreur inattendue ({type(exc).__name__}) ; rien n'a été enregistré. "
            "Relancer avec SIAE_DEBUG=1 pour obtenir le détail technique."
        )


def settings() -> Settings:
    return get_settings()


def process_config() -> ProcessConfig:
    return get_process_config(settings().config_dir)


def database_url() -> str:
    return settings().effective_database_url


def _sqlite_missing(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        path = Path(parsed.database)
        return None if path.exists() else path
    return None


def check_current(engine: Engine) -> None:
    current, head = current_revision(engine), head_revision()
    if current != head:
        state = "n'est pas initialisée" if current is None else f"est à la révision {current}, et non {head}"
        raise DomainError(f"La base de données {state} : lancer « siae init-db ».", field="base")


@contextmanager
def database() -> Iterator[Session]:
    """One unit of work on the configured database, refused if its schema is not current."""
    url = database_url()
    missing = _sqlite_missing(url)
    if missing is not None:
        raise DomainError(f"Base de données absente ({missing}) : lancer « siae init-db ».", field="base")
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
