"""Start-up of the ``siae`` command line, each command a new process as a person types it.

Usage: ``.venv/bin/python -m benchmarks.cli_startup [--repetitions 7]``. The figures are median wall
times, on the demo database (``siae demo-base``) in a temporary directory, of ``siae --help``,
``siae projet lister`` and ``siae tableau``, beside two floors measured in the same run: the interpreter
alone (``python -c pass``) and the import of the database stack that every reading command needs
(``python -c "import sqlmodel"``). Then ``python -X importtime`` lists the heaviest imports of
``siae projet lister``. The runs alternate between the commands, so that a change of load on a shared
machine weighs on all of them alike.
"""

import os
import subprocess
import sys
import tempfile

from benchmarks.commands import SIAE, Timing, time_argv
from implantation.cli.common import FrenchArgumentParser

FLOORS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    'python -c "import sqlmodel"': [sys.executable, "-c", "import sqlmodel"],
}
COMMANDS = (["--help"], ["projet", "lister"], ["tableau"])


def import_profile(
    args: list[str], env: dict[str, str], top: int = 10
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


def load_average() -> str:
    try:
        return ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "inconnue"


def main(argv: list[str] | None = None) -> int:
    parser = FrenchArgumentParser(prog="python -m benchmarks.cli_startup", description=__doc__)
    parser.add_argument("--repetitions", type=int, default=7, help="Lancements par commande (médiane)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="siae-cli-") as tmp:
        env = {
            **os.environ,
            "SIAE_DATA_DIR": tmp,
            "SIAE_DATABASE_URL": f"sqlite:///{tmp}/demo-base/demo.db",
            "COLUMNS": "200",
        }
        subprocess.run(
            [str(SIAE), "demo-base", "--repertoire", f"{tmp}/demo-base"],
            env=env,
            capture_output=True,
            check=True,
        )
        measured: dict[str, list[Timing]] = {}
        argvs = {**FLOORS, **{f"siae {' '.join(c)}": [str(SIAE), *c] for c in COMMANDS}}
        load_before = load_average()
        for _ in range(args.repetitions):
            for label, command in argvs.items():
                measured.setdefault(label, []).append(time_argv(command, env, 1))
        print(
            f"Lancement à froid, médiane de {args.repetitions} (charge avant : {load_before} ; "
            f"après : {load_average()}) :"
        )
        floor = 0.0
        for label, timings in measured.items():
            timing = Timing([t.wall[0] for t in timings], [t.cpu[0] for t in timings])
            if label == 'python -c "import sqlmodel"':
                floor = timing.median
            above = (
                f"  ({timing.median - floor:+.2f} s sur l'import de sqlmodel)"
                if label.startswith("siae")
                else ""
            )
            print(f"  {label:<30} {timing.median:6.3f} s  processeur {timing.cpu_median:6.3f} s{above}")
        total, heaviest = import_profile(["projet", "lister"], env)
        print(
            f"Imports de « siae projet lister » (python -X importtime) : {total:.3f} s au total ; les plus lourds :"
        )
        for seconds, name in heaviest:
            print(f"  {name:<32} {seconds:6.3f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
