"""Work that every flow run would repeat, done once in the runner's forkserver (see
:data:`flows.runtime.warm_start.PRELOAD`): the forked runs find it done.

Measured in each run before: SQLAlchemy configures the application's mappers at the first query of a
process (0.04 s in the decision of a resumed run, while the person who clicked waits), and Babel loads
the French locale data at the first date written in an e-mail (0.03 s). Both depend on the code only,
not on data a person could change while the runner is up.

The TLS context that all Prefect clients of a run share (:mod:`flows.runtime.client`) was built in each
run, by its first client: 0.05 s of CPU (py-spy, under load) as the run starts, twice per decision (the
resumed run, then the next stage's). Built here from the forkserver's settings, it is inherited by every
forked run; a run whose TLS settings differ builds its own, as before.

Found by py-spy in the runs of the national benchmark (share of the flow processes' samples): importing
``icalendar`` for the stage-opening e-mail's ``.ics`` (2 %), compiling the e-mail templates (2 %), reading
and validating ``config/`` (1.8 %). Each is now done here once. The configuration is read from the
forkserver's settings, without caching them; a run whose settings name another folder reads that one, and
each run first forgets a configuration whose files changed since (see ``warm_start``), as each run saw the
files of its start before.

Prefect's API models are declared with pydantic's ``defer_build``: each builds its validator at its first
use, so every run built again those of the flow run, the deployment, the state update, the event filter
(py-spy on the national benchmark, 40 projects: 7 % of the runs' samples, 4 samples of 40 Hz per run
under load). :func:`build_prefect_models` builds them here once with pydantic's ``model_rebuild``, the
documented way to complete a deferred model (Prefect calls it itself for ``StateDetails``): about 260
models in 0.06 s, which every run inherits.

Found the same way (py-spy ``--gil`` on the runs, national benchmark, 40 projects, after the above): each
run built its gate's form class (``flows.gates.form_for``: 2 % of the runs' CPU) and loaded the
school-holiday data for the launch-date check (``implantation.calendar.school_holidays``: 3 %). Both are
built here, for the configuration read above; a run whose configuration changed builds its own forms.

Found the same way on 40 projects (6 December, evening): each run created the application's SQLAlchemy engine
(3.2 % of the runs' CPU, half of it SQLAlchemy's first-connection set-up of the dialect: server
version, string and JSON handling) and compiled again the SQL of every ``session.get`` (4.9 %: the
project's row alone has 40 columns); it imported Rich's emoji table at its first console log line (2 %),
the stage gates' requirements and OpenSSL's backend at their first use (those three are now in
``warm_start.PRELOAD``). :func:`warm_database` creates
the engine here, for the forkserver's database, and runs each table's ``session.get`` once on a key
that no row has, so that its compiled statement is in the engine's cache; then it closes its
connections (SQLAlchemy's ``dispose``, the documented way before forking), so that no run shares one.
A run whose settings name another database creates its own engine, as before. A database that cannot
be read at this moment (not yet created, not migrated, down) is left alone: the runs do the work. The
warm-up takes 0.04 s, once per runner start (21 tables, PostgreSQL on the loopback).

Found the same way on 40 projects (7 December): each stage-5 run cleaned up and compiled again the XML of
the five document templates (docxtpl's ``patch_xml`` 1.9 % and Jinja's compilation 2.1 % of the runs'
CPU; 0.12 s per run on an idle machine). :func:`~implantation.documents.render.warm_templates` prepares
them here, from the configured templates folder; a template changed since, or one that cannot be read,
is prepared by the run that renders it, as before.
"""

import contextlib
from collections.abc import Iterator
from datetime import date

import icalendar  # noqa: F401  (the stage-opening e-mail's calendar)
from babel.dates import format_date
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import class_mapper, configure_mappers
from sqlmodel import Session, SQLModel

import implantation.db.models  # noqa: F401  (declares the mappers configured below)
from flows.gates import form_for
from flows.runtime import heap, tuning
from flows.runtime.client import current_context
from implantation.calendar import school_holidays
from implantation.config.loader import ConfigError, get_process_config
from implantation.dates import LOCALE
from implantation.db.session import get_engine, sqlite_file
from implantation.documents.render import warm_templates
from implantation.notifications.mailer import compile_templates
from implantation.settings import Settings


def _models(base: type[BaseModel]) -> Iterator[type[BaseModel]]:
    for model in base.__subclasses__():
        yield model
        yield from _models(model)


def build_prefect_models() -> int:
    """Build the validators of Prefect's models loaded so far; returns how many were still to build.

    ``raise_errors=False``: a model whose forward references cannot be resolved yet stays deferred, as
    Prefect left it, and is built where it is first used.
    """
    pending = {
        m for m in _models(BaseModel) if m.__module__.startswith("prefect.") and not m.__pydantic_complete__
    }
    for model in pending:
        model.model_rebuild(raise_errors=False)
    return len(pending)


def _tables() -> Iterator[type[SQLModel]]:
    for model in _models(SQLModel):
        if issubclass(model, SQLModel) and hasattr(model, "__table__"):
            yield model


_ABSENT: dict[type, object] = {int: 0, str: ""}  # no row has these keys: ids start at 1, names are not empty


def _absent_key(table: type[SQLModel]) -> object | None:
    """A primary key no row of ``table`` has, or None when its type is not one of ``_ABSENT``'s."""
    try:  # a decorated type (SQLModel's strings) says its Python type through the type it decorates
        keys = [
            _ABSENT.get(getattr(column.type, "impl_instance", column.type).python_type)
            for column in class_mapper(table).primary_key
        ]
    except NotImplementedError:  # a column type that does not say its Python type
        return None
    if None in keys:
        return None
    return keys[0] if len(keys) == 1 else tuple(keys)


def warm_database(url: str) -> int:
    """Connect ``url``'s engine once and compile each table's ``session.get``; returns how many were compiled.

    Read-only, in a transaction rolled back. The engine's connections are closed before returning, and
    the engine (cached by :func:`get_engine`) keeps its dialect, set up by the first connection, and its
    compiled statements.
    """
    if url.startswith("sqlite") and not ((path := sqlite_file(url)) and path.is_file()):
        return 0  # not created yet (connecting would create an empty file), or in memory
    engine = get_engine(url)
    compiled = 0
    try:
        with Session(engine) as session:
            for table in _tables():
                if (key := _absent_key(table)) is not None:
                    session.get(table, key)
                    compiled += 1
    except (SQLAlchemyError, OSError):
        return 0
    finally:
        engine.dispose()
    return compiled


configure_mappers()
build_prefect_models()
format_date(date(2026, 1, 1), "d MMMM y", locale=LOCALE)
current_context()
compile_templates()
settings: Settings | None = None
with contextlib.suppress(ConfigError, ValidationError, OSError):  # each run reports it, as before
    settings = Settings()
    config = get_process_config(settings.config_dir)
    for stage in config.stages.etape:  # the gates' forms, built from that configuration
        form_for(stage.numero, config)
school_holidays()
if settings is not None:
    warm_database(settings.effective_database_url)
    warm_templates(settings.templates_dir)

# Last: what is loaded now is what the runs inherit. The runner refused unknown patch names before it
# started this process; settings that do not validate leave the heap as it is (each run reports them).
if settings is not None and tuning.GC_HEAP in tuning.active(settings):
    heap.freeze_forkserver()
