"""Read-only commands start without loading the heavy stacks (no wall-clock figure here: see
``benchmarks/cli_startup.py``). Which modules a command imported is read from the process itself."""

import json
import os
import subprocess
import sys

import pytest

PROBE = """
import json, sys
sys.argv = ["siae", *sys.argv[1:]]
from flows.runtime.cli import main
try:
    main()
except SystemExit:
    pass
print("MODULES=" + json.dumps(sorted(sys.modules)), file=sys.stderr)
"""
HEAVY = (
    "alembic",
    "holidays",
    "vacances_scolaires_france",
    "docx",
    "docxtpl",
    "jinja2",
    "prefect",
    "num2words",
)


def _imported(args: list[str], url: str) -> set[str]:
    env = {**os.environ, "SIAE_DATABASE_URL": url}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    line = next(x for x in done.stderr.splitlines() if x.startswith("MODULES="))
    assert "Erreur" not in done.stderr, done.stderr
    return {name.split(".")[0] for name in json.loads(line.removeprefix("MODULES="))}


@pytest.mark.parametrize("args", [["--help"], ["projet", "--help"], ["projet", "lister"]])
def test_read_only_commands_do_not_load_the_heavy_stacks(args: list[str], migrated_url: str) -> None:
    loaded = _imported(args, migrated_url)
    assert [name for name in HEAVY if name in loaded] == []


def test_the_help_does_not_even_load_the_database_stack(migrated_url: str) -> None:
    loaded = _imported(["--help"], migrated_url)
    assert "sqlalchemy" not in loaded and "sqlmodel" not in loaded
