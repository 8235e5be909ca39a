"""The end-to-end scenario (tests and demo) is pinned to its own "today": it cannot rot with the calendar."""

from datetime import date, timedelta

import pytest
import time_machine
from sqlmodel import Session

from flows.harness.samples import seed
from flows.harness.scenario import SCENARIO_TODAY, Driver
from implantation.calendar import launch_date_problems
from implantation.config.schema import ProcessConfig
from implantation.settings import Settings


def test_the_scenario_dates_do_not_depend_on_the_day_it_runs(session: Session, cfg: ProcessConfig) -> None:
    ids = seed(session)
    session.commit()
    engine = session.get_bind()
    driver = Driver(None, engine, cfg, ids)  # type: ignore[arg-type]  (no Prefect call here)
    launch_on = driver.launch_date(driver.today + timedelta(days=60))
    # Long after the school-holiday data ends (31 August 2028), the same dates, still checkable.
    with time_machine.travel(date(2031, 11, 3)):
        later = Driver(None, engine, cfg, ids)  # type: ignore[arg-type]
        assert later.today == SCENARIO_TODAY
        assert later.launch_date(later.today + timedelta(days=60)) == launch_on
        summer = later.leave_day(launch_on)
        assert launch_date_problems(launch_on, "38", cfg.calendar, "A") == []
        assert any("Congés d'été" in p for p in launch_date_problems(summer, "38", cfg.calendar, "A"))
    assert launch_on < date(2028, 8, 31)


def test_the_runner_is_given_the_scenario_today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIAE_TODAY", SCENARIO_TODAY.isoformat())
    assert Settings().today == SCENARIO_TODAY
    monkeypatch.delenv("SIAE_TODAY")
    assert Settings().today is None
