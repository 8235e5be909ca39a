"""The Prefect settings the product runs with, each with the reason it differs from Prefect's default.

These are documented Prefect settings (environment variables), not patches: the server, the runner and
every flow run read them as Prefect reads any setting. They are defaults only: :func:`defaults_for`
returns those the operator has not set, so a value exported by the operator (or its service manager)
always wins. What ties them to one installation (``PREFECT_HOME``, the API URL, the database) is decided
by whoever starts the processes (``flows.harness.local.prefect_env``, the production launcher).
"""

from collections.abc import Mapping
from typing import NamedTuple

from pydantic import TypeAdapter, ValidationError


class Default(NamedTuple):
    value: str
    reason: str
    # Variables that, set to a true value by the operator, leave this default out: it would contradict them.
    unless: tuple[str, ...] = ()


DEFAULTS: dict[str, Default] = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": Default(
        "false", "Nothing leaves the machine: the network is limited to the loopback and the registries."
    ),
    "PREFECT_SERVER_UI_V2_ENABLED": Default(
        "false", "The approvals are answered with the « Resume » button of Prefect's v1 UI."
    ),
    "PREFECT_RESULTS_PERSIST_BY_DEFAULT": Default(
        "true",
        "A replayed run (recovery, resume) returns the stored result of each finished task instead of "
        "doing its side effect again.",
    ),
    # Automations are not used (deadlines are the ``echeances`` sweep) and work pools neither (the runner
    # serves the flows).
    "PREFECT_SERVER_SERVICES_TRIGGERS_ENABLED": Default(
        "false",
        "Automations are not used; the service only added a writer to the server's database, and with "
        "SQLite every extra writer stalls the others (« database is locked »).",
    ),
    "PREFECT_SERVER_SERVICES_FOREMAN_ENABLED": Default(
        "false", "Work pools are not used (the runner serves the flows); one writer less."
    ),
    "PREFECT_SERVER_SERVICES_PAUSE_EXPIRATIONS_ENABLED": Default(
        "false",
        "Every 5 s it loads each paused run to fail those past their pause timeout; a gate suspends "
        "without one (a decision takes weeks), so with one waiting run per establishment it only loaded "
        "them all, forever.",
    ),
    "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_BATCH_SIZE": Default(
        "100",
        "Prefect's recorder writes each task-run event in its own transaction (about 30 commits per "
        "transition); batched, a task run's states are one upsert.",
    ),
    "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_FLUSH_INTERVAL": Default(
        "1", "Batched task states still reach the UI within a second or two."
    ),
    "PREFECT_SERVER_SERVICES_EVENT_PERSISTER_BATCH_SIZE": Default(
        "100", "Events are stored in batches rather than one transaction each."
    ),
    "PREFECT_SERVER_SERVICES_EVENT_PERSISTER_FLUSH_INTERVAL": Default(
        "2", "The UI's event feed lags at most two seconds."
    ),
    "PREFECT_LOGGING_LEVEL": Default("INFO", "The runs' logs say what was done, without debug noise."),
    # A documented override of Prefect's logging configuration (PREFECT_LOGGING_[PATH]_[TO]_[KEY]), not a
    # setting of its own: see LOGGING_OVERRIDES.
    "PREFECT_LOGGING_LOGGERS_PREFECT_TASK_RUNS_LEVEL": Default(
        "WARNING",
        "Each finished task logged « Finished in state Completed() » to the console and the API: ten lines "
        "per decision, 2.6 % of the runs' CPU under the national load (py-spy), plus their storage by the "
        "server. The task runs' states stay in the UI (« Task Runs »), and a task's warnings and failures "
        "are still logged; PREFECT_LOGGING_LOGGERS_PREFECT_TASK_RUNS_LEVEL=INFO brings the lines back.",
    ),
    "PREFECT_SERVER_DATABASE_SQLALCHEMY_POOL_SIZE": Default(
        "15",
        "PostgreSQL only. Prefect keeps 5 connections and closes each one opened beyond them once used: "
        "under the national load the server opened about 2.5 new connections per decision (424 for 20 "
        "projects, 47 for 40 once kept), each a new PostgreSQL process whose types and statements are "
        "prepared again. On 190 projects PostgreSQL's CPU fell from 196 s to 128-134 s (the server's own "
        "did not fall: flows/runtime/README.md).",
    ),
    "PREFECT_RUNNER_PROCESS_LIMIT": Default(
        "10",
        "Prefect's default is 5: with 190 projects deciding, runs queued at the runner while part of "
        "the CPU stayed idle, a run spending most of its time waiting for the database, the API or SMTP.",
    ),
    "PREFECT_CLIENT_CSRF_SUPPORT_ENABLED": Default(
        "false",
        "Prefect's server leaves CSRF protection off by default, and its clients then ask for a token anyway: "
        "each new client (about 2.6 per run) sent GET /csrf-token before its first write and received « CSRF "
        "protection is disabled », one request of 5 ms of the server's CPU and a round trip on the way to "
        "the next stage. The UI sends the API password as a header it keeps itself, which a third-party site "
        "cannot make a browser send. An operator who turns the server's protection on "
        "(PREFECT_SERVER_API_CSRF_PROTECTION_ENABLED=true) gets Prefect's default back, and sets it to true "
        "on the runners of other machines too.",
        unless=("PREFECT_SERVER_API_CSRF_PROTECTION_ENABLED", "PREFECT_SERVER_CSRF_PROTECTION_ENABLED"),
    ),
    "PREFECT_CLIENT_SERVER_VERSION_CHECK_ENABLED": Default(
        "false",
        "Each run's client asked the server for its API version (GET /admin/version, once per run), though a "
        "run is forked from its runner's installation. The runner checks once, as it starts "
        "(flows.runtime.runner), which is the check Prefect's setting describes for worker subprocesses.",
    ),
    "PREFECT_FLOWS_HEARTBEAT_FREQUENCY": Default(
        "30",
        "Each run's process tells the server it lives; a run whose beats stop is scheduled again by a "
        "runner of another machine (flows.runtime.recovery). 30 s is Prefect's minimum.",
    ),
}


# Defaults that override Prefect's logging configuration (``logging.yml``) rather than set a setting.
LOGGING_OVERRIDES = frozenset(name for name in DEFAULTS if name.startswith("PREFECT_LOGGING_LOGGERS_"))


def defaults_for(environ: Mapping[str, str]) -> dict[str, str]:
    """The product's Prefect settings that ``environ`` does not set already, nor contradicts (``unless``)."""
    return {
        name: default.value
        for name, default in DEFAULTS.items()
        if name not in environ and not any(_true(environ.get(other)) for other in default.unless)
    }


_BOOL = TypeAdapter(bool)


def _true(value: str | None) -> bool:
    """Whether Prefect reads ``value`` as true: its settings parse booleans with pydantic, as here."""
    if value is None:
        return False
    try:
        return _BOOL.validate_python(value)
    except ValidationError:
        return False
