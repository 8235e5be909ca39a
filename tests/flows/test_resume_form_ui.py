"""A person answers a gate in the Prefect UI itself: Resume, the French form, Submit (headless Chromium).

The other flow tests answer through the resume API, as the UI does; this one proves the UI really draws
the form from the gate's schema and sends what a person types: the v1 UI's visible « Resume » button,
French labels, the markdown context, a refused answer re-asked with its reason, then an approval; the
code shown as required, and the send-back stage offered as a list of the earlier stages.
"""

import os
import shutil
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, sync_playwright
from sqlmodel import select

from flows.harness.browser import CHROMIUM_ARGS
from implantation.db.models import Person, StageRecord, TransitionLog
from implantation.db.session import session_scope
from implantation.enums import StageStatus
from tests.flow_stack import FlowStack

pytestmark = [pytest.mark.prefect, pytest.mark.ui]

CHROMIUM = (
    os.environ.get("SIAE_TEST_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
)
# A loaded machine (two cores, several Prefect servers) can take well over Playwright's 30 s to answer.
UI_TIMEOUT_MS = 120_000


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if CHROMIUM is None:
        reason = "Chromium absent : installer le paquet chromium"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} — en CI (CI=true), le test de l'interface doit s'exécuter.")
        pytest.skip(reason)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _answer_in_ui(
    browser: Browser | BrowserContext, url: str, email: str, code: str, decision: str, reason: str = ""
) -> str:
    """Open the run, click Resume, fill the form as a person would, submit; returns the form's text.

    A ``BrowserContext`` keeps what the UI stored in it, such as the log-in of a closed server."""
    page = (
        browser.new_page(viewport={"width": 1400, "height": 2000})
        if isinstance(browser, Browser)
        else browser.new_page()
    )
    page.set_default_timeout(UI_TIMEOUT_MS)
    try:
        page.goto(url)
        page.get_by_role("button", name="Resume").first.click()
        dialog = page.get_by_role("dialog")
        dialog.get_by_text("Adresse électronique de l'approbateur").wait_for()
        shown = dialog.inner_text()
        boxes = dialog.locator("textarea")
        boxes.nth(0).fill(email)
        boxes.nth(1).fill(code)
        if reason:
            boxes.nth(2).fill(reason)
        # The decision is a drop-down of the schema's enum; the keyboard opens it.
        dialog.locator(".p-select-button__control").first.focus()
        page.keyboard.press("ArrowDown")
        page.get_by_role("option", name=decision, exact=True).click()
        dialog.get_by_role("button", name="Submit").click()
        dialog.wait_for(state="hidden")
        return shown
    finally:
        page.close()


def _send_back_choices(browser: Browser, url: str) -> tuple[str, list[str]]:
    """The form's text, and the choices a person sees on opening « Étape de renvoi »."""
    page = browser.new_page(viewport={"width": 1400, "height": 2000})
    page.set_default_timeout(UI_TIMEOUT_MS)
    try:
        page.goto(url)
        page.get_by_role("button", name="Resume").first.click()
        dialog = page.get_by_role("dialog")
        dialog.get_by_text("Adresse électronique de l'approbateur").wait_for()
        label = page.locator(".schema-form-property__label", has_text="Étape de renvoi")
        field = dialog.locator(".p-label.schema-form-property").filter(has=label).last
        field.locator(".p-select-button__control").focus()  # the keyboard opens the drop-down
        page.keyboard.press("ArrowDown")
        page.get_by_role("option").first.wait_for()
        return dialog.inner_text(), page.get_by_role("option").all_inner_texts()
    finally:
        page.close()


def _logged(fs: FlowStack, key: str) -> TransitionLog:
    """The decision logged for the answer to the gate ``key``, once the resumed run has written it."""
    fs.driver().outcome(key)
    with session_scope(fs.engine) as session:
        return session.exec(select(TransitionLog).where(TransitionLog.idempotency_key == key)).one()


@pytest.mark.parametrize("flow_stack", ["sqlite"], indirect=True)
def test_a_gate_is_answered_in_the_prefect_ui(flow_stack: FlowStack, browser: Browser) -> None:
    fs = flow_stack
    driver = fs.driver()
    projet_id = driver.start()
    driver.stage_work(projet_id, 1)  # what the approval requires
    run, first = driver.wait_gate(projet_id, 1)
    url = f"{fs.stack.ui_url}/runs/flow-run/{run}"
    lead_email = fs.ids.emails["cheffe.projet.disp"]

    # A rejection without its reason: the UI sends it (the schema allows it), the stage re-asks. The code
    # is the one the lead reads in the approval request caught by the test SMTP server.
    code = driver.received_code(projet_id, 1, lead_email)
    assert code
    shown = _answer_in_ui(browser, url, lead_email, code, "rejeter")
    for text in ("Le projet", "Chef de projet :", "Locaux disponibles :", "Code reçu par courriel", "Motif"):
        assert text in shown, text
    # The code is required (no decision without it): the UI does not mark it « Optional ». Stage 1 has no
    # earlier stage to send back to, and offers its pilot's motivated override.
    assert "Code reçu par courriel\n" in shown and "Code reçu par courriel (Optional)" not in shown
    assert "Étape de renvoi" not in shown and "Dérogation motivée (pilote de l'étape)" in shown
    refused = _logged(fs, str(first["pause_key"]))
    assert not refused.accepted and "un motif est obligatoire" in (refused.reason or "")

    # The re-asked form tells why; the lead then approves with the new code of the new approval request.
    second = fs.api.wait_paused(run, str(first["pause_key"]))
    renewed = driver.received_code(projet_id, 1, lead_email)
    assert renewed and renewed != code
    shown = _answer_in_ui(
        browser, url, lead_email, renewed, "approuver", reason="Locaux visités le 12 novembre."
    )
    assert "La saisie précédente n'a pas été retenue" in shown and "un motif est obligatoire" in shown
    approved = _logged(fs, str(second["pause_key"]))
    assert approved.accepted and approved.transition == "approuver"
    assert approved.reason == "Locaux visités le 12 novembre."
    with session_scope(fs.engine) as session:
        lead = session.get(Person, fs.ids.lead_id)
        assert lead is not None and approved.actor_label == lead.full_name
        stage2 = session.exec(
            select(StageRecord).where(StageRecord.project_id == projet_id, StageRecord.stage == 2)
        ).one()
        assert stage2.status == StageStatus.OPEN
    assert fs.api.wait_state(run, {"COMPLETED"}) == "COMPLETED"

    # At stage 2 the send-back stage is a list of the earlier stages, by number and title: nothing to type,
    # no « int / None » type switch to flip.
    run2, _details = driver.wait_gate(projet_id, 2)
    shown, choices = _send_back_choices(browser, f"{fs.stack.ui_url}/runs/flow-run/{run2}")
    assert choices == ["(aucune)", "1 — Identifier l'établissement candidat à l'implantation d'une SIAE"]
    assert "Property is type" not in shown and "Code reçu par courriel (Optional)" not in shown
