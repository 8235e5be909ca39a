"""Start-up of the ``siae`` command line: wall time of the read-only commands and where imports go.

Usage: ``.venv/bin/python -m benchmarks.cli_startup [--repetitions 5]``. Goal: ``projet lister``,
``projet chronologie`` and ``--help`` under 0.5 s. Each command runs as a new process, as a person types it,
on the demo database (``siae demo-base``) in a temporary directory; the figure is the median wall time,
cold (``SIAE_CLI_WARM=0``: the first command, which imports everything) and warm (the next ones,
answered by the process the first one started, see ``flows.runtime.warm_cli``).
Then ``python -X importtime`` lists the modules that weigh most in the import of the command line.
"""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.commands import SIAE, cold, time_command, warm
from implantation.cli.common import FrenchArgumentParser

COMMANDS = (["--help"], ["projet", "lister"], ["projet", "chronologie", "1"], ["projet", "--help"])
GOAL_SECONDS = 0.5


def import_profile(
    args: list[str], env: dict[str, str], top: int = 12
) -> tuple[float, list[tuple[float, str]]]:
    """Total import time of the command (start-up and lazy imports) and its heaviest outermost imports."""
    code = "import sys; from flows.runtime.cli import main; sys.argv = ['siae', *sys.argv[1:]]; main()"
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code, *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    outermost: list[tuple[float, str]] = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "[us]" in line:
            continue
        _self, cumulative, name = line.removeprefix("import time:").split("|")
        if len(name) - len(name.lstrip()) == 1:  # imported by no other module being imported
            outermost.append((int(cumulative) / 1e6, name.strip()))
    return sum(s for s, _n in outermost), sorted(outermost, reverse=True)[:top]


def main(argv: list[str] | None = None) -> int:
    parser = FrenchArgumentParser(prog="python -m benchmarks.cli_startup", description=__doc__)
    parser.add_argument("--repetitions", type=int, default=5, help="Lancements par commande (médiane)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="siae-cli-") as tmp:
        env = {**os.environ, "SIAE_DATA_DIR": tmp, "SIAE_DATABASE_URL": f"sqlite:///{tmp}/demo-base/demo.db"}
        subprocess.run(
            [str(SIAE), "demo-base", "--repertoire", f"{tmp}/demo-base"],
            env=env,
            capture_output=True,
            check=True,
        )
        print(f"Temps de lancement (médiane de {args.repetitions}, objectif {GOAL_SECONDS} s) :")
        print(f"  {'':<30} {'à froid':>8} {'à chaud':>8}")
        slow = 0
        cold_env = cold(env)
        with warm(env, Path(tmp) / "chaud", prime=["projet", "lister"]) as warm_env:
            for command in COMMANDS:
                first = time_command(command, cold_env, args.repetitions).median
                then = time_command(command, warm_env, args.repetitions).median
                slow += then > GOAL_SECONDS
                verdict = "ok" if then <= GOAL_SECONDS else "trop lent"
                print(f"  siae {' '.join(command):<25} {first:6.3f} s {then:6.3f} s  {verdict}")
        print(
            "  (à froid : SIAE_CLI_WARM=0 ou première commande ; à chaud : les suivantes, voir flows.runtime.warm_cli)"
        )
        total, heaviest = import_profile(["projet", "lister"], env)
        print(
            f"Imports de « siae projet lister » (python -X importtime) : {total:.3f} s au total ; les plus lourds :"
        )
        for seconds, name in heaviest:
            print(f"  {name:<32} {seconds:6.3f} s")
    return 1 if slow else 0


if __name__ == "__main__":
    raise SystemExit(main())
