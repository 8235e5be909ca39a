"""Flow runs forked from a warm process rather than started in a fresh interpreter (patch ``forkserver``),
and the run-side patches applied in each run's process (``settings_reuse``, ``shared_tls``,
``no_observer``; see :mod:`flows.runtime.tuning`).

Prefect's runner starts every flow run with multiprocessing's "spawn": a new interpreter that imports
Prefect and this project again. That costs 2 to 4 s on a 2-core machine, and it is paid on every resume,
so a decision taken in the UI waited that long before anything happened. A forkserver imports those
modules once, when the runner starts, then forks one child per run in milliseconds.

The child receives the same payload, environment and control channel as Prefect's own. Two things
differ: the start method, and the child reuses the forkserver's Prefect settings when its environment
gives the same ones (see :func:`_run_flow_with_env`). Prefect's direct starter names
``run_flow_in_subprocess`` at module level as the point to override. ``tests/runtime/test_private_names.py``
checks that this copy still matches the Prefect release in use.

With the ``forkserver`` patch off and a run-side patch on, the same copy starts runs with Prefect's
« spawn »; with all of them off (``SIAE_PREFECT_TUNING=0``) :func:`install` is not called and Prefect's
own starter runs.
"""

import asyncio
import multiprocessing
import multiprocessing.context
import multiprocessing.forkserver
import os
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar, cast

import prefect.runner._starter_direct as direct_starter
from prefect.context import (
    EngineContext,
    SettingsContext,
    TagsContext,
    TaskRunContext,
    _deployment_id,
    _deployment_parameters,
    get_settings_context,
    serialize_context,
)
from prefect.engine import handle_engine_signals
from prefect.flow_engine import (
    _CONTROL_CHANNEL_ENV_KEYS,
    _run_serialized_call_with_control_bootstrap,
    _runtime_subprocess_env,
    run_flow,
)
from prefect.settings import get_current_settings
from prefect.settings.models.root import Settings
from prefect.utilities.callables import cloudpickle_wrapped_call
from prefect.utilities.processutils import sanitize_subprocess_env

from flows.runtime import client as prefect_client
from flows.runtime import recovery, suspension, tuning
from implantation.config import loader

T = TypeVar("T")

# The patches the runner applies (:func:`install`); all of them where this module is used without it.
_patches: frozenset[str] = frozenset(tuning.PATCHES)

# Imported once by the forkserver, so that every forked run finds them loaded (a module that is not
# installed is skipped). Measured per run before each was added: ``flows.runtime.runner`` is the runner's main
# module, which every child runs again as ``__mp_main__``, and preloading it preloads what it imports
# (Alembic through the CLI helpers: 0.35 s); ``holidays`` loads its countries on first use (0.2 s in
# every decision); Prefect's task engine, its graph rendering and its concurrency helpers, anyio's
# backend, the e-mail policies and both database drivers are imported lazily (0.13 s together); the
# signature checks import pyHanko in every stage-5 decision and gate (0.29 s, ``python -X importtime``).
# :mod:`flows.runtime.preload` also does the first-use work of SQLAlchemy's mappers and Babel's French data.
PRELOAD = (
    "prefect.flow_engine",
    "prefect.task_engine",
    "prefect.utilities.visualization",
    "prefect.concurrency.sync",
    "anyio._backends._asyncio",
    "flows.runtime.runner",
    "holidays.countries",
    "email.policy",
    "email.headerregistry",
    "sqlalchemy.dialects.sqlite",
    "sqlalchemy.dialects.postgresql",
    "psycopg",
    "encodings.idna",  # the SMTP client's host name
    "implantation.signatures.register",
    # Imported at their first use in every run (py-spy, national benchmark, 40 projects: 2.5 % of the runs'
    # CPU together): Rich's emoji table at the first console log line, the gates' requirements in a
    # decision, OpenSSL's backend in pyHanko's ECDSA checks.
    "rich._emoji_codes",
    "implantation.services.gate_requirements",
    "cryptography.hazmat.backends.openssl.backend",
    "flows.runtime.preload",
)


def _settings_variables(env: Mapping[str, str | None]) -> dict[str, str]:
    """The variables that Prefect's settings are read from (``PREFECT__…`` names carry run data)."""
    return {
        k: v
        for k, v in env.items()
        if v is not None and k.startswith("PREFECT_") and not k.startswith("PREFECT__")
    }


# Turning Prefect's settings into variables and serializing the context took 0.1 to 0.15 s of every
# start in the runner, under load, for the same result each time. Each is kept with the objects it was
# computed from, and computed again when one of them is no longer the current one (part of ``settings_reuse``).
_derived: dict[str, tuple[tuple[object, ...], Any]] = {}


def _once_per(name: str, sources: tuple[object, ...], compute: Callable[[], T]) -> T:
    kept = _derived.get(name)
    if kept is None or not all(a is b or a == b for a, b in zip(kept[0], sources, strict=True)):
        kept = _derived[name] = (sources, compute())
    return cast(T, kept[1])


def _environment() -> dict[str, str | None]:
    """What a run is started with, as Prefect does: the current settings as variables, then the environment."""
    settings = get_current_settings()
    if tuning.SETTINGS_REUSE not in _patches:
        return {**settings.to_environment_variables(exclude_unset=True), **os.environ}
    variables = _once_per(
        "variables", (settings,), lambda: settings.to_environment_variables(exclude_unset=True)
    )
    environment: dict[str, str | None] = {**variables, **os.environ}
    return environment


def _context() -> dict[str, Any]:
    """``serialize_context()``; where no run is in progress (the runner), once per settings, tags and
    deployment variables, the other things it serializes."""
    if EngineContext.get() or TaskRunContext.get() or tuning.SETTINGS_REUSE not in _patches:
        return serialize_context()
    sources = (
        get_settings_context(),
        frozenset(TagsContext.get().current_tags),
        _deployment_id.get(),
        _deployment_parameters.get(),
    )
    return _once_per("context", sources, serialize_context)


# What a child's environment holds when its settings are the forkserver's, taken when the forkserver
# imports this module, right after building its settings.
_FORKSERVER_SETTINGS = _settings_variables(_environment())


def reuses_forkserver_settings(environ: Mapping[str, str | None]) -> bool:
    return _settings_variables(environ) == _FORKSERVER_SETTINGS


def _run_flow_with_env(
    *args: Any,
    env: dict[str, str] | None = None,
    remove_env: set[str] | None = None,
    patches: frozenset[str] = frozenset(),
    **kwargs: Any,
) -> None:
    """In the child: apply the run's environment, then run the flow, as Prefect's own wrapper does.

    Prefect builds its ``Settings`` twice per run: from the environment here, then from the parent's
    serialized settings. Each build reads the environment for about a hundred nested models (0.5 s on
    this machine). The forkserver built them from the same variables when it started, so a run whose
    settings variables are exactly those reuses them and skips both builds; any difference builds anew.
    The run's Prefect clients share one TLS context (see :mod:`flows.runtime.client`).
    """
    for key in remove_env or ():
        os.environ.pop(key, None)
    os.environ.update(env or {})
    if tuning.SHARED_TLS in patches:
        prefect_client.install_shared_tls()
    if tuning.NO_OBSERVER in patches:
        suspension.install()
    loader.forget_cached_if_changed()  # the forkserver read config/ at its start (see ``preload``)
    if tuning.SETTINGS_REUSE in patches and reuses_forkserver_settings(os.environ):
        settings = get_current_settings()
        context = kwargs.get("context") or {}
        kwargs["context"] = {k: v for k, v in context.items() if k != "settings_context"}
    else:
        settings = Settings()
    with SettingsContext(profile=get_settings_context().profile, settings=settings):
        flow_run = kwargs.get("flow_run")
        recovery.hold_lease(getattr(flow_run, "id", None))  # see :mod:`flows.runtime.recovery`
        with handle_engine_signals(getattr(flow_run, "id", None)):
            outcome = run_flow(*args, **kwargs)
            if asyncio.iscoroutine(outcome):
                asyncio.run(outcome)


def run_flow_in_subprocess(
    flow: Any,
    flow_run: Any = None,
    parameters: dict[str, Any] | None = None,
    wait_for: Iterable[Any] | None = None,
    context: dict[str, Any] | None = None,
    env: dict[str, str | None] | None = None,
) -> multiprocessing.process.BaseProcess:
    """Prefect's ``run_flow_in_subprocess``, with the forkserver start method and the run-side patches."""
    ctx: multiprocessing.context.SpawnContext | multiprocessing.context.ForkServerContext = (
        multiprocessing.get_context("forkserver")
        if tuning.FORKSERVER in _patches
        else multiprocessing.get_context("spawn")
    )
    merged_env = _environment() | {"PREFECT__ENABLE_CANCELLATION_AND_CRASHED_HOOKS": "false"} | (env or {})
    sanitized = sanitize_subprocess_env(merged_env)
    startup_env = {key: value for key, value in sanitized.items() if key in _CONTROL_CHANNEL_ENV_KEYS}
    wrapped_call = cloudpickle_wrapped_call(
        _run_flow_with_env,
        env=_runtime_subprocess_env(sanitized),
        remove_env={key for key, value in merged_env.items() if value is None},
        patches=_patches,
        flow=flow,
        flow_run=flow_run,
        parameters=parameters,
        wait_for=wait_for,
        context=context or _context(),
    )
    process = ctx.Process(
        target=_run_serialized_call_with_control_bootstrap,
        args=(wrapped_call.args[0], startup_env),  # type: ignore[attr-defined]
    )
    process.start()
    return process


def install(patches: Iterable[str] = tuning.PATCHES, preload: Iterable[str] = PRELOAD) -> None:
    """Make the runner start runs with this module's copy, applying ``patches``; with ``forkserver``
    among them, start the forkserver now (it imports ``preload`` once) and fork runs from it.

    Called before the runner opens any connection or thread: the forkserver is a fresh interpreter
    started from this process's environment, so it holds nothing but the imported modules.
    """
    global _patches
    _patches = frozenset(patches)
    if tuning.FORKSERVER in _patches:
        multiprocessing.set_forkserver_preload(list(preload))
        multiprocessing.forkserver.ensure_running()
    direct_starter.run_flow_in_subprocess = run_flow_in_subprocess  # type: ignore[assignment]
