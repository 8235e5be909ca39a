"""One switch for stock Prefect, and one per patch: SIAE_PREFECT_TUNING and SIAE_PREFECT_TUNING_OFF."""

import pytest

from flows.runtime import runner, tuning
from implantation.settings import Settings


def _settings(monkeypatch: pytest.MonkeyPatch, **variables: str) -> Settings:
    for name in ("SIAE_PREFECT_TUNING", "SIAE_PREFECT_TUNING_OFF"):
        monkeypatch.delenv(name, raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    return Settings(_env_file=None)  # type: ignore[call-arg]


def test_all_patches_by_default_none_with_the_switch_off(monkeypatch: pytest.MonkeyPatch) -> None:
    assert tuning.active(_settings(monkeypatch)) == frozenset(tuning.PATCHES)
    assert tuning.active(_settings(monkeypatch, SIAE_PREFECT_TUNING="0")) == frozenset()
    assert tuning.active(_settings(monkeypatch, SIAE_PREFECT_TUNING="1")) == frozenset(tuning.PATCHES)


def test_single_patches_are_switched_off_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    on = tuning.active(_settings(monkeypatch, SIAE_PREFECT_TUNING_OFF=" wakeup, shared_tls ,"))
    assert on == frozenset(tuning.PATCHES) - {"wakeup", "shared_tls"}


def test_an_unknown_name_is_refused_in_french(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(tuning.TuningError, match="correction inconnue reveil"):
        tuning.active(_settings(monkeypatch, SIAE_PREFECT_TUNING_OFF="wakeup,reveil"))
    # Refused even with every patch off: the operator's list is wrong either way.
    with pytest.raises(tuning.TuningError):
        tuning.active(_settings(monkeypatch, SIAE_PREFECT_TUNING="0", SIAE_PREFECT_TUNING_OFF="reveil"))


@pytest.mark.parametrize("on", [(), tuning.PATCHES, ("forkserver",), tuple(set(tuning.PATCHES) - {"wakeup"})])
def test_the_variables_for_a_set_of_patches_give_that_set(monkeypatch: pytest.MonkeyPatch, on: tuple) -> None:
    assert tuning.active(_settings(monkeypatch, **tuning.environment(on))) == frozenset(on)


def test_the_runner_refuses_to_start_with_an_unknown_patch(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SIAE_PREFECT_TUNING_OFF", "reveil")
    runner.get_settings.cache_clear()
    try:
        with pytest.raises(SystemExit) as stopped:
            runner.main([])
    finally:
        runner.get_settings.cache_clear()
    assert stopped.value.code == 2
    assert "correction inconnue reveil" in capsys.readouterr().err
