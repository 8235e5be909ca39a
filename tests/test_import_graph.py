"""The packages import one another without a cycle, and no module borrows another's private names.

Imports inside functions count too: a lazy import that closes a cycle still ties the two modules together
(each needs the other's internals), it only hides it from the interpreter.
"""

import ast
from pathlib import Path

from implantation.settings import PROJECT_ROOT

PACKAGES = ("implantation", "flows", "tasks")


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (PROJECT_ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            name = ".".join(path.relative_to(PROJECT_ROOT).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


def _imports(name: str, path: Path, modules: dict[str, Path]) -> tuple[set[str], list[str]]:
    """The project's modules that ``name`` imports, and the private names it takes from them."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    targets: set[str] = set()
    private: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets |= {alias.name for alias in node.names if alias.name in modules}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, *([base] if base else [])])
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                targets.add(submodule if submodule in modules else base)
                if alias.name.startswith("_") and not alias.name.startswith("__") and base in modules:
                    private.append(f"{name} importe {base}.{alias.name}")
    return {t for t in targets if t in modules and t != name}, private


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in sorted(graph[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle_and_no_borrowed_private_name() -> None:
    modules = _modules()
    graph: dict[str, set[str]] = {}
    borrowed: list[str] = []
    for name, path in modules.items():
        graph[name], private = _imports(name, path, modules)
        borrowed += private
    assert _cycles(graph) == []
    assert borrowed == []


def test_the_check_sees_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


# The one crossing allowed: a fault point of the recovery tests loads its action from the harness only when
# ``SIAE_TEST_FAULT`` is set, which the settings refuse outside the demonstration and test modes.
TEST_HOOK = ("implantation.fault_points", "flows.harness.faults")


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    graph = {name: _imports(name, path, modules)[0] for name, path in modules.items()}
    graph[TEST_HOOK[0]] = graph[TEST_HOOK[0]] - {TEST_HOOK[1]}
    return graph


def test_the_only_way_from_the_product_to_the_harness_is_the_guarded_fault_point() -> None:
    modules = _modules()
    reaching = sorted(
        (name, target)
        for name, path in modules.items()
        if not name.startswith("flows.harness")
        for target in _imports(name, path, modules)[0]
        if target.startswith("flows.harness")
    )
    assert reaching == [TEST_HOOK]


def _external(path: Path) -> set[str]:
    """The top-level names of every package ``path`` imports (``prefect``, ``sqlmodel``…)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names.add(node.module.split(".")[0])
    return names


def _process(name: str) -> bool:
    """The flows themselves, as opposed to what starts Prefect (runtime) and drives it from outside (harness)."""
    return name.startswith("flows.") and not name.startswith(("flows.runtime", "flows.harness"))


def test_the_domain_imports_neither_prefect_nor_the_flows() -> None:
    """What ARCHITECTURE.md promises of ``implantation``: rules and services that run without Prefect."""
    crossing = [
        f"{name} importe {target}"
        for name, targets in _graph().items()
        if name.startswith("implantation")
        for target in targets
        if target.startswith(("flows", "tasks"))
    ]
    modules = _modules()
    prefect = [
        name
        for name, path in modules.items()
        if name.startswith("implantation") and "prefect" in _external(path)
    ]
    assert crossing == [] and prefect == []


def test_the_flows_import_no_service_and_the_tasks_only_the_runtime_client() -> None:
    """The process layer reads rules and configuration and calls tasks; the tasks take from ``flows`` only the
    client that retries a creation refused by a locked SQLite server (see ARCHITECTURE.md)."""
    below = (
        "implantation.services",
        "implantation.db",
        "implantation.documents",
        "implantation.notifications",
    )
    crossing = []
    for name, targets in _graph().items():
        for target in targets:
            if _process(name) and target.startswith(below):
                crossing.append(f"{name} importe {target}")
            if name.startswith("tasks") and target.startswith("flows") and target != "flows.runtime.client":
                crossing.append(f"{name} importe {target}")
    assert crossing == []


def test_what_a_run_executes_never_reaches_the_harness() -> None:
    graph = _graph()
    seen: set[str] = set()
    todo = [name for name in graph if _process(name) or name.startswith("tasks")]
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(graph[name])
    assert sorted(name for name in seen if name.startswith("flows.harness")) == []


def test_the_runtime_imports_nothing_of_the_test_harness() -> None:
    """``make serve`` and the runners are production code: the harness may use them, never the reverse."""
    modules = _modules()
    offending = [
        f"{name} importe {target}"
        for name, path in modules.items()
        if name.startswith("flows.runtime")
        for target in _imports(name, path, modules)[0]
        if target.startswith("flows.harness")
    ]
    assert offending == []
