"""Every private Prefect name the runtime uses is listed in flows/runtime/private_names.py, and each one
still matches the installed Prefect: a new release that changes one fails here, naming it."""

import ast
import re

import pytest

from flows.runtime import private_names
from flows.runtime.private_names import NAMES, PrivateName, problem
from implantation.settings import PROJECT_ROOT

RUNTIME = PROJECT_ROOT / "flows" / "runtime"
# Prefect's internals, by module (the rule of the developers' guide) or by a leading underscore.
INTERNAL_MODULE = re.compile(r"^prefect\.(_|server\b|runner\b|flow_engine\b)|\._")
PRIVATE_TEXT = re.compile(r"prefect\.(_internal|server|runner|flow_engine)|prefect\._")
# Private-looking names of the standard library that are its public API.
STDLIB = {"_exit", "_asdict", "_replace", "_fields"}


@pytest.mark.parametrize("entry", NAMES, ids=[entry.where for entry in NAMES])
def test_each_private_name_matches_the_installed_prefect(entry: PrivateName) -> None:
    found = problem(entry)
    assert found is None, (
        f"Prefect a changé {entry.where} ({entry.check}), utilisé par flows/runtime/{entry.used_by} : "
        f"{found}. Relire le code de Prefect, adapter notre module (ou désactiver la correction avec "
        "SIAE_PREFECT_TUNING_OFF), puis mettre à jour flows/runtime/private_names.py."
    )


def test_the_checks_see_a_change() -> None:
    """Each kind of check fails on a name, a signature, a body or an attribute that is not Prefect's."""
    real = next(e for e in NAMES if e.check == "source")
    assert problem(PrivateName(real.where, "source", "0" * 16, "x")) is not None
    assert problem(PrivateName("prefect.engine:n_existe_pas", "present", "", "x")) is not None
    assert problem(PrivateName("prefect.engine:handle_engine_signals", "signature", "autre", "x")) is not None
    assert (
        problem(PrivateName("prefect.client.orchestration:PrefectClient.n_existe_pas", "attribute", "", "x"))
        is not None
    )


def _project_private_names() -> set[str]:
    """The underscore names the project defines itself (its own functions, constants and attributes)."""
    names: set[str] = set()
    for package in ("implantation", "flows", "tasks", "benchmarks"):
        for path in (PROJECT_ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                    names.add(node.name)
                elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                    names.add(node.id)
                elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                    names.add(node.attr)
    return {name for name in names if name.startswith("_")}


def _used_private_names() -> list[tuple[str, str]]:
    """(our module, what it uses) for every private Prefect import and underscore attribute in flows/runtime."""
    ours = _project_private_names()
    used: list[tuple[str, str]] = []
    for path in sorted(RUNTIME.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("prefect"):
                for alias in node.names:
                    if INTERNAL_MODULE.search(node.module or "") or alias.name.startswith("_"):
                        used.append((path.name, f"{node.module}:{alias.name}"))
            elif isinstance(node, ast.Import):
                used += [
                    (path.name, f"{alias.name}:")
                    for alias in node.names
                    if alias.name.startswith("prefect") and INTERNAL_MODULE.search(alias.name)
                ]
            elif (
                isinstance(node, ast.Attribute)
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
                and node.attr not in ours | STDLIB
            ):
                used.append((path.name, f".{node.attr}"))
    return used


def _listed(used: str) -> bool:
    if used.startswith("."):  # an attribute: listed under its owner
        return any(e.where.endswith(used) or e.where.endswith(":" + used[1:]) for e in NAMES)
    module, _, name = used.partition(":")
    prefixes = (f"{module}:{name}", f"{module}.{name}:") if name else (f"{module}:",)
    return any(e.where.startswith(prefixes) for e in NAMES)


def test_every_private_name_used_by_the_runtime_is_listed() -> None:
    missing = [f"{module} : {used}" for module, used in _used_private_names() if not _listed(used)]
    assert missing == [], f"noms internes de Prefect absents de flows/runtime/private_names.py : {missing}"


def test_the_inventory_sees_the_names_it_must_see() -> None:
    used = {name for _, name in _used_private_names()}
    assert {"._submitting_flow_run_ids", "._client"} <= used
    assert any(name.endswith(":_run_serialized_call_with_control_bootstrap") for name in used)


def test_no_private_prefect_name_outside_the_runtime() -> None:
    """The developers' guide: Prefect's internals are named in flows/runtime/ only (tests included)."""
    offenders = []
    for package in ("implantation", "flows", "tasks", "benchmarks", "tests"):
        for path in (PROJECT_ROOT / package).rglob("*.py"):
            if RUNTIME in path.parents:
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if PRIVATE_TEXT.search(line):
                    offenders.append(f"{path.relative_to(PROJECT_ROOT)}:{number}")
    assert offenders == []


def test_resolve_reaches_the_live_object() -> None:
    assert callable(private_names.resolve("prefect.engine:handle_engine_signals"))
