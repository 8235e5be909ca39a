"""Guards on the Prefect code that flows/runtime/ copies or wraps: its source, not only its signature.

A new Prefect release may keep a private function's parameters and change its body (a fix the copy would
miss, a behaviour the wrapper assumed). Each entry is the sha256 (first 16 hex digits) of
``inspect.getsource`` in the pinned release; when one fails, read Prefect's new code, carry the change
over to our module, then update the digest.
"""

import ast
import hashlib
import importlib.util
import inspect
from pathlib import Path

import pytest

# "module:qualified name" of Prefect's code → (digest, our module that copies or wraps it)
UPSTREAM = {
    "prefect._flow_run_suspension:observe_flow_run_suspension": (
        "c342ca7443cedf86",
        "flows/runtime/suspension_observer.py (copie)",
    ),
    "prefect.flow_engine:run_flow_in_subprocess": ("38820abf84e9cd5d", "flows/runtime/warm_start.py (copie)"),
    "prefect.runner._scheduled_run_poller:ScheduledRunPoller._submit_scheduled_flow_runs": (
        "7443feb975de74d6",
        "flows/runtime/wakeup.py (appel)",
    ),
    "prefect.runner._flow_run_executor:FlowRunExecutor.__init__": (
        "d5c3782c71a5c670",
        "flows/runtime/runner.py (propose_submitting)",
    ),
    "prefect._internal.version_checking:check_server_version": (
        "00dafae2aef341e6",
        "flows/runtime/warm_start.py (vérification déjà faite par le runner)",
    ),
    "prefect._internal.version_checking:_cache_api_version_check": (
        "ff5b2ee25b8f9a17",
        "flows/runtime/warm_start.py (vérification déjà faite par le runner)",
    ),
    "prefect.server.database.configurations:AioSqliteConfiguration.setup_sqlite": (
        "b9dc9fceb00c8468",
        "flows/runtime/server.py (enveloppe)",
    ),
    "prefect.server.database.configurations:AioSqliteConfiguration.begin_transaction": (
        "c9ea33bf1b494ec8",
        "flows/runtime/server.py (enveloppe)",
    ),
}


def source_digest(path: str) -> str:
    """Read from Prefect's file, not from the live object: flows/runtime/ replaces some of these objects in
    the test process (``server.install()``), and the wrapper's source is not what is guarded."""
    module, qualified = path.split(":")
    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin is not None
    lines = Path(spec.origin).read_text(encoding="utf-8").splitlines(keepends=True)
    node: ast.AST = ast.parse("".join(lines))
    for part in qualified.split("."):
        node = next(
            child
            for child in ast.iter_child_nodes(node)
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and child.name == part
        )
    assert isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and node.end_lineno
    first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
    return hashlib.sha256("".join(lines[first - 1 : node.end_lineno]).encode()).hexdigest()[:16]


@pytest.mark.parametrize("path", sorted(UPSTREAM))
def test_the_prefect_code_we_copy_or_wrap_is_unchanged(path: str) -> None:
    expected, ours = UPSTREAM[path]
    assert source_digest(path) == expected, (
        f"Prefect a changé {path} : relire le nouveau code, reporter le changement dans {ours}, "
        "puis mettre à jour l'empreinte."
    )


def test_the_digest_sees_a_change_of_body_with_the_same_signature() -> None:
    def before(x: int) -> int:
        return x + 1

    def after(x: int) -> int:
        return x + 2

    assert inspect.signature(before) == inspect.signature(after)
    assert (
        hashlib.sha256(inspect.getsource(before).encode()).digest()
        != hashlib.sha256(inspect.getsource(after).encode()).digest()
    )
