"""Test and demonstration code is not shipped, and the shipped code does not need it.

What a wheel holds is decided by ``[tool.setuptools.packages.find]``: the same rules are applied here to
the source tree. The shipped modules are then read for imports of the harness or of a development-only
library; the only one allowed is the fault point's, taken when ``SIAE_TEST_FAULT`` is set, which the
product refuses outside the demonstration and test modes (``implantation/fault_points.py``).
"""

import ast
import tomllib

from setuptools import find_packages

from implantation.settings import PROJECT_ROOT

PYPROJECT = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
TEST_ONLY = ("flows.harness", "aiosmtpd", "pytest", "playwright", "time_machine", "tests")
ALLOWED = {("implantation.fault_points", "flows.harness")}


def _shipped_packages() -> list[str]:
    rules = PYPROJECT["tool"]["setuptools"]["packages"]["find"]
    return find_packages(str(PROJECT_ROOT), include=rules["include"], exclude=rules.get("exclude", ()))


def _imported(tree: ast.AST) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


def test_the_harness_and_its_samples_are_not_shipped() -> None:
    packages = _shipped_packages()
    assert "flows.runtime" in packages and "implantation" in packages
    assert not [p for p in packages if p.startswith("flows.harness")]
    assert PYPROJECT["tool"]["setuptools"]["include-package-data"] is False
    for module in ("implantation/samples.py", "implantation/faults.py"):
        assert not (PROJECT_ROOT / module).exists()


def test_aiosmtpd_is_a_development_dependency() -> None:
    runtime = PYPROJECT["project"]["dependencies"]
    assert not [d for d in runtime if d.startswith("aiosmtpd")]
    assert [d for d in PYPROJECT["project"]["optional-dependencies"]["dev"] if d.startswith("aiosmtpd")]


def test_shipped_modules_import_no_test_code() -> None:
    offending = []
    for package in _shipped_packages():
        folder = PROJECT_ROOT / package.replace(".", "/")
        for path in folder.glob("*.py"):
            name = f"{package}.{path.stem}".removesuffix(".__init__")
            for target in _imported(ast.parse(path.read_text(encoding="utf-8"))):
                if target.startswith(TEST_ONLY) and (name, target) not in ALLOWED:
                    offending.append(f"{name} importe {target}")
    assert offending == []
