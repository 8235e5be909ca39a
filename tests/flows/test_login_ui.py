"""The Prefect UI behind basic auth (headless Chromium): logged out, the link to a run shows nothing but
« Authentication failed. »; a person logs in on the home page with the auth string of the production
set-up, opens the link again, answers the gate, and the decision is recorded.

The runner and its flow runs authenticate with ``PREFECT_API_AUTH_STRING``, as on a runner machine."""

from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser
from sqlmodel import select

from flows.harness.sandbox import sandbox
from flows.harness.scenario import SCENARIO_TODAY, Driver
from implantation.config.loader import get_process_config
from implantation.db.models import StageRecord, TransitionLog
from implantation.db.session import session_scope
from implantation.enums import StageStatus
from implantation.settings import PROJECT_ROOT
from tests.flows.test_resume_form_ui import UI_TIMEOUT_MS, _answer_in_ui, browser  # noqa: F401  (the Chromium fixture)

pytestmark = [pytest.mark.prefect, pytest.mark.ui]

AUTH = "siae:mot-de-passe-de-test"


def test_a_person_logs_in_then_decides(tmp_path: Path, browser: Browser) -> None:  # noqa: F811
    config_dir = PROJECT_ROOT / "config"
    extra = {
        "PREFECT_SERVER_API_AUTH_STRING": AUTH,
        "PREFECT_API_AUTH_STRING": AUTH,
        "SIAE_CONFIG_DIR": str(config_dir),
    }
    database = f"sqlite:///{tmp_path / 'siae.db'}"
    with sandbox(tmp_path, database, tmp_path / "data", extra=extra, today=SCENARIO_TODAY) as box:
        box.stack.start(schedules=False)
        assert httpx.post(f"{box.stack.api_url}/flow_runs/filter", json={}).status_code == 401
        driver = Driver(
            box.api,
            box.engine,
            get_process_config(config_dir),
            box.ids,
            sink=box.sink,
            app_env=box.stack.env,
        )
        projet_id = driver.start()
        driver.stage_work(projet_id, 1)
        run, details = driver.wait_gate(projet_id, 1)
        url = f"{box.stack.ui_url}/runs/flow-run/{run}"
        lead = box.ids.emails["cheffe.projet.disp"]

        context = browser.new_context(viewport={"width": 1400, "height": 2000})
        try:
            context.set_default_timeout(UI_TIMEOUT_MS)
            page = context.new_page()
            # Not logged in, the link of the e-mail shows no run, only Prefect's refusal.
            page.goto(url)
            page.get_by_text("Authentication failed.").first.wait_for()
            assert page.get_by_role("button", name="Resume").count() == 0
            # The home page asks for the auth string; then the same link opens the run.
            page.goto(box.stack.ui_url)
            password = page.get_by_placeholder("admin:pass")
            password.fill(AUTH)
            page.get_by_role("button", name="Login").click()
            password.wait_for(state="detached")
            page.goto(url)
            page.get_by_role("button", name="Resume").first.wait_for()
            page.close()

            code = driver.received_code(projet_id, 1, lead)
            assert code
            shown = _answer_in_ui(context, url, lead, code, "approuver", reason="Locaux visités.")
        finally:
            context.close()
        assert "Le projet" in shown

        driver.outcome(str(details["pause_key"]))
        with session_scope(box.engine) as session:
            row = session.exec(
                select(TransitionLog).where(TransitionLog.idempotency_key == str(details["pause_key"]))
            ).one()
            assert row.accepted and row.transition == "approuver" and row.reason == "Locaux visités."
            stage2 = session.exec(
                select(StageRecord).where(StageRecord.project_id == projet_id, StageRecord.stage == 2)
            ).one()
            assert stage2.status == StageStatus.OPEN
        assert box.api.wait_state(run, {"COMPLETED"}) == "COMPLETED"
