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


@pytest.mark.parametrize(
    ("argv", "env", "expected"),
    [
        (["--intervalle", "0"], None, "erreur : --intervalle doit être un nombre de secondes positif"),
        (["--intervalle", "abc"], None, "erreur : option --intervalle: nombre invalide: 'abc'"),
        ([], "abc", "erreur : paramètre SIAE_RUNNER_POLL_SECONDS invalide : 'abc'"),
        ([], "-1", "erreur : paramètre SIAE_RUNNER_POLL_SECONDS invalide : '-1'"),
    ],
)
def test_runner_refuses_a_bad_polling_interval(
    argv: list[str],
    env: str | None,
    expected: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Refused before anything starts: no forkserver, no connection to a server."""
    from flows.runtime import runner
    from implantation.settings import get_settings

    if env is not None:
        monkeypatch.setenv("SIAE_RUNNER_POLL_SECONDS", env)
    get_settings.cache_clear()
    try:
        with pytest.raises(SystemExit) as exit_:
            runner.main(argv)
    finally:
        get_settings.cache_clear()
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err
