"""Every name of Prefect's internals that the runtime uses, in one list, with what guards it.

Prefect promises nothing about these names between releases: a module of its runner, engine or server,
a name with a leading underscore, an attribute its objects set on themselves. A new release may remove
one, change its parameters, or keep them and change what the code does. ``tests/runtime/test_private_names.py``
checks each entry against the installed Prefect and fails naming the entry, so an upgrade shows at once
which patch to look at (and :mod:`flows.runtime.tuning` can switch that patch off meanwhile). The same test
fails if a module of ``flows/runtime/`` uses a private Prefect name that is not listed here.

The checks, from the strictest:

* ``source``: the sha256 (first 16 hex digits) of the definition's source in Prefect's file, for code we
  copied, code whose behaviour a patch relies on, and constants we read: when it fails, read Prefect's
  new code, carry the change over to our module, then update the digest;
* ``signature``: the parameter names, for what we call or replace;
* ``attribute``: the class (or one of its methods) still assigns ``self.<name>``, for instance attributes
  we read;
* ``present``: the module or name still exists.

The internal variables a run is started with (``PREFECT__…``) are those of the copied starter, guarded by
its digest. Outside ``flows/runtime/`` nothing names these: the tests reach them through the runtime's
modules.
"""

import ast
import hashlib
import importlib
import importlib.util
import inspect
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

Check = Literal["source", "signature", "attribute", "present"]


@dataclass(frozen=True)
class PrivateName:
    where: str  # "module:qualified.name", or "module:" for a module
    check: Check
    expected: str  # the digest (source), the parameter names joined by "," (signature), else ""
    used_by: str  # our module, and what for


NAMES: tuple[PrivateName, ...] = (
    # flows/runtime/warm_start.py: the starter, copied with another start method.
    PrivateName(
        "prefect.flow_engine:run_flow_in_subprocess",
        "source",
        "38820abf84e9cd5d",
        "warm_start.py (copie de la fonction de démarrage)",
    ),
    PrivateName(
        "prefect.runner._starter_direct:run_flow_in_subprocess",
        "present",
        "",
        "warm_start.py (point de remplacement du démarreur)",
    ),
    PrivateName(
        "prefect.runner._starter_direct:DirectSubprocessStarter.start",
        "source",
        "8a6eab9d006abdd7",
        "warm_start.py (appelle le nom remplacé, avec ces arguments)",
    ),
    PrivateName(
        "prefect.flow_engine:_run_serialized_call_with_control_bootstrap",
        "signature",
        "payload,startup_env",
        "warm_start.py (cible du processus du run)",
    ),
    PrivateName("prefect.flow_engine:_runtime_subprocess_env", "signature", "env", "warm_start.py"),
    PrivateName(
        "prefect.flow_engine:_CONTROL_CHANNEL_ENV_KEYS", "source", "eacf6697f623c057", "warm_start.py"
    ),
    PrivateName("prefect.flow_engine:run_flow", "present", "", "warm_start.py"),
    PrivateName(
        "prefect.context:_deployment_id", "present", "", "warm_start.py (contexte sérialisé une fois)"
    ),
    PrivateName(
        "prefect.context:_deployment_parameters", "present", "", "warm_start.py (contexte sérialisé une fois)"
    ),
    PrivateName(
        "prefect.utilities.callables:cloudpickle_wrapped_call",
        "signature",
        "__fn,args,kwargs",
        "warm_start.py",
    ),
    PrivateName(
        "prefect.utilities.processutils:sanitize_subprocess_env",
        "signature",
        "env,remove_from",
        "warm_start.py",
    ),
    PrivateName("prefect.engine:handle_engine_signals", "signature", "flow_run_id", "warm_start.py"),
    # flows/runtime/suspension.py: the suspension observer left unstarted in each run.
    PrivateName(
        "prefect.flow_engine:observe_flow_run_suspension",
        "signature",
        "flow_run_id,suspension_request,polling_interval",
        "suspension.py (nom remplacé dans le moteur des runs)",
    ),
    PrivateName(
        "prefect.flow_engine:BaseFlowRunEngine.setup_flow_run_suspension_request",
        "source",
        "91afa9cbdc073fb8",
        "suspension.py (le moteur lit ce nom à chaque run ; rien d'autre n'y dépend de l'observateur)",
    ),
    PrivateName(
        "prefect._flow_run_suspension:observe_flow_run_suspension",
        "source",
        "c342ca7443cedf86",
        "suspension.py (ce que l'observateur fait : client, lecture du run, abonnement aux événements)",
    ),
    # flows/runtime/warm_start.py: modules the forkserver imports once.
    PrivateName("prefect.task_engine:", "present", "", "warm_start.py (PRELOAD)"),
    PrivateName("prefect.utilities.visualization:", "present", "", "warm_start.py (PRELOAD)"),
    PrivateName("prefect.concurrency.sync:", "present", "", "warm_start.py (PRELOAD)"),
    # flows/runtime/wakeup.py: the runner's own submission, called on an event.
    PrivateName(
        "prefect.runner._scheduled_run_poller:ScheduledRunPoller._submit_scheduled_flow_runs",
        "source",
        "7443feb975de74d6",
        "wakeup.py (appel)",
    ),
    PrivateName(
        "prefect.runner._scheduled_run_poller:ScheduledRunPoller._submitting_flow_run_ids",
        "attribute",
        "",
        "wakeup.py",
    ),
    PrivateName(
        "prefect.runner._scheduled_run_poller:ScheduledRunPoller._runs_task_group",
        "attribute",
        "",
        "wakeup.py",
    ),
    PrivateName(
        "prefect.runner._scheduled_run_poller:ScheduledRunPoller.stopping", "attribute", "", "wakeup.py"
    ),
    PrivateName("prefect.runner:Runner", "present", "", "runner.py, wakeup.py (le runner de Prefect)"),
    PrivateName("prefect.runner.runner:Runner._scheduled_run_poller", "attribute", "", "wakeup.py"),
    PrivateName("prefect.runner.runner:Runner._client", "attribute", "", "wakeup.py"),
    PrivateName("prefect.runner.runner:Runner.started", "attribute", "", "wakeup.py"),
    PrivateName(
        "prefect.runner.runner:Runner.handle_sigterm",
        "signature",
        "self,args,kwargs",
        "runner.py (arrêt borné sur SIGTERM)",
    ),
    # flows/runtime/server.py: the SQLite adjustments of the server.
    PrivateName(
        "prefect.server.database.configurations:AioSqliteConfiguration.setup_sqlite",
        "source",
        "b9dc9fceb00c8468",
        "server.py (enveloppe)",
    ),
    PrivateName(
        "prefect.server.database.configurations:AioSqliteConfiguration.begin_transaction",
        "source",
        "c9ea33bf1b494ec8",
        "server.py (enveloppe)",
    ),
    PrivateName(
        "prefect.server.api.server:create_app",
        "signature",
        "settings,ephemeral,webserver_only,final,ignore_cache",
        "server.py (enveloppe)",
    ),
    # flows/runtime/client.py: every client handed the shared TLS context.
    PrivateName(
        "prefect.client.orchestration:PrefectClient.__init__",
        "signature",
        "self,api,auth_string,api_key,api_version,httpx_settings,server_type",
        "client.py (contexte TLS partagé)",
    ),
    PrivateName(
        "prefect.client.orchestration:SyncPrefectClient.__init__",
        "signature",
        "self,api,auth_string,api_key,api_version,httpx_settings,server_type",
        "client.py (contexte TLS partagé)",
    ),
)


def _split(where: str) -> tuple[str, list[str]]:
    module, _, qualified = where.partition(":")
    return module, qualified.split(".") if qualified else []


def resolve(where: str) -> Any:
    """The live object (a module for ``"module:"``)."""
    module, parts = _split(where)
    obj: Any = importlib.import_module(module)
    for part in parts:
        obj = getattr(obj, part)
    return obj


def _definition(where: str) -> tuple[list[str], ast.AST]:
    """The lines of Prefect's file and the node that defines ``where`` (read from the file, not the live
    object: the runtime replaces some of these objects in the running process)."""
    module, parts = _split(where)
    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin is not None
    lines = Path(spec.origin).read_text(encoding="utf-8").splitlines(keepends=True)
    node: ast.AST = ast.parse("".join(lines))
    for part in parts:
        node = next(
            child
            for child in ast.iter_child_nodes(node)
            if (
                isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
                and child.name == part
            )
            or (
                isinstance(child, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == part for t in child.targets)
            )
            or (
                isinstance(child, ast.AnnAssign)
                and isinstance(child.target, ast.Name)
                and child.target.id == part
            )
        )
    return lines, node


def source_digest(where: str) -> str:
    lines, node = _definition(where)
    assert isinstance(node, ast.stmt) and node.end_lineno
    decorators = getattr(node, "decorator_list", [])
    first = min([node.lineno, *(d.lineno for d in decorators)])
    return hashlib.sha256("".join(lines[first - 1 : node.end_lineno]).encode()).hexdigest()[:16]


def _assigns_self(where: str) -> bool:
    class_where, _, attribute = where.rpartition(".")
    _, node = _definition(class_where)
    for child in ast.walk(node):
        targets = child.targets if isinstance(child, ast.Assign) else [getattr(child, "target", None)]
        if isinstance(child, ast.Assign | ast.AnnAssign) and any(
            isinstance(t, ast.Attribute)
            and t.attr == attribute
            and isinstance(t.value, ast.Name)
            and t.value.id == "self"
            for t in targets
        ):
            return True
    return False


def problem(entry: PrivateName) -> str | None:
    """What no longer matches in the installed Prefect, in French; None when the entry holds."""
    try:
        if entry.check == "attribute":
            return None if _assigns_self(entry.where) else "l'attribut n'est plus affecté par la classe"
        resolve(entry.where)
        if entry.check == "source" and entry.expected:
            digest = source_digest(entry.where)
            if digest != entry.expected:
                return f"le code a changé (empreinte {digest}, attendue {entry.expected})"
        elif entry.check == "signature":
            names = ",".join(inspect.signature(resolve(entry.where)).parameters)
            if names != entry.expected:
                return f"les paramètres ont changé ({names}, attendus {entry.expected})"
    except (ImportError, AttributeError, StopIteration) as exc:
        return f"le nom n'existe plus ({type(exc).__name__}: {exc})"
    return None
