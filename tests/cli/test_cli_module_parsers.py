"""The module entry points (demo, serve, benchmarks) answer in French too."""

import pytest

from implantation.cli.common import FrenchArgumentParser


def _parser() -> FrenchArgumentParser:
    parser = FrenchArgumentParser(prog="demo", description="Démonstration.")
    parser.add_argument("--port", type=int)
    return parser


def test_help_is_french(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        _parser().parse_args(["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("utilisation : demo")
    assert "Afficher cette aide et quitter" in out and "show this help" not in out


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--port", "abc"], "demo : erreur : option --port: nombre entier invalide: 'abc'"),
        (["--inconnu"], "demo : erreur : arguments non reconnus: --inconnu"),
        (["--port"], "demo : erreur : option --port: une valeur est attendue"),
    ],
)
def test_errors_are_french_and_exit_2(
    argv: list[str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        _parser().parse_args(argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err
