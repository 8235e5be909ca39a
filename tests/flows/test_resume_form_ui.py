"""A person answers a gate in the Prefect UI itself: Resume, the French form, Submit (headless Chromium).

The other flow tests answer through the resume API, as the UI does; this one proves the UI really draws
the form from the gate's schema and sends what a person types: the v1 UI's visible « Resume » button,
French labels, the markdown context, a refused answer re-asked with its reason, then an approval.
"""

import os
import shutil
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Locator, Page, sync_playwright
from sqlmodel import select

from flows.harness.scenario import gate
from implantation.db.models import FactChange, ImplantationProject, Person, StageRecord, TransitionLog
from implantation.db.session import session_scope
from implantation.enums import StageStatus
from tests.flow_stack import FlowStack

pytestmark = [pytest.mark.prefect, pytest.mark.ui]

CHROMIUM = (
    os.environ.get("SIAE_TEST_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
)
# Without these, Chromium keeps trying to reach Google's hosts, which this closed network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


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


def _answer_in_ui(browser: Browser, url: str, email: str, code: str, decision: str, reason: str = "") -> str:
    """Open the run, click Resume, fill the form as a person would, submit; returns the form's text."""
    page = browser.new_page(viewport={"width": 1400, "height": 2000})
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


def _pick_decision(page: Page, dialog: Locator, decision: str) -> None:
    """The decision is a drop-down of the schema's enum; the keyboard opens it."""
    dialog.locator(".p-select-button__control").first.focus()
    page.keyboard.press("ArrowDown")
    page.get_by_role("option", name=decision, exact=True).click()


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


def _fill_line(page: Page, line: Locator, libelle: str, montant: str, nature: str, annee: str) -> None:
    """One budget line of the stage-3 form: its boxes typed, its two drop-downs picked."""
    boxes = line.locator("textarea, input[type=text]")
    boxes.nth(0).fill(libelle)
    boxes.nth(1).fill(montant)
    for control, label in ((0, nature), (1, annee)):
        select = line.locator(".p-select-button__control").nth(control)
        select.focus()
        page.keyboard.press("ArrowDown")
        page.get_by_role("option", name=label, exact=True).click()


@pytest.mark.parametrize("flow_stack", ["sqlite"], indirect=True)
def test_stage_3_budget_lines_are_added_in_the_prefect_ui(flow_stack: FlowStack, browser: Browser) -> None:
    """At the feasibility gate a person adds two budget lines with « Add item », types the facts, submits:
    the lines are in the application's database, logged with that person."""
    fs = flow_stack
    driver = fs.driver()
    projet_id = driver.start()
    e = fs.ids.emails
    for stage in (1, 2, 3):
        driver.stage_work(projet_id, stage)
    driver.answer(projet_id, 1, gate(e["cheffe.projet.disp"]), "étape 1")
    sourcing = {"siae_sourcees": [driver.siae(fs.ids.siae_id)], "siae_retenue": driver.siae(fs.ids.siae_id)}
    driver.answer(projet_id, 2, gate(e["referent.dreets"], activite="Tri de textiles", **sourcing), "étape 2")
    run, details = driver.wait_gate(projet_id, 3)
    email = e["spip38"]
    page = browser.new_page(viewport={"width": 1400, "height": 3000})
    try:
        page.goto(f"{fs.stack.ui_url}/runs/flow-run/{run}")
        page.get_by_role("button", name="Resume").first.click()
        dialog = page.get_by_role("dialog")
        dialog.get_by_text("Budget prévisionnel (années 1 et 2)").first.wait_for()
        # Pre-filled: the activity chosen at stage 2 is shown in its box.
        assert "Tri de textiles" in [b.input_value() for b in dialog.locator("textarea").all()]
        boxes = dialog.locator("textarea")
        boxes.nth(0).fill(email)
        boxes.nth(1).fill(driver.received_code(projet_id, 3, email))
        _pick_decision(page, dialog, "approuver")
        add = dialog.get_by_role("button", name="Add item").first
        add.click()
        add.click()
        # Each line is a sub-form (card) of the draggable list: two boxes and two drop-downs.
        lines = dialog.locator(".p-draggable-list__item")
        _fill_line(page, lines.nth(0), "Salaires de l'encadrement", "95 000", "charge", "1")
        _fill_line(page, lines.nth(1), "Vente de textiles triés", "40000", "ressource", "2")
        dialog.get_by_role("button", name="Submit").click()
        dialog.wait_for(state="hidden")
    finally:
        page.close()
    decision = _logged(fs, str(details["pause_key"]))
    assert decision.accepted, decision.reason
    with session_scope(fs.engine) as session:
        project = session.get(ImplantationProject, projet_id)
        assert project is not None and project.budget_lines == [
            {"nature": "charge", "libelle": "Salaires de l'encadrement", "montant": "95000", "annee": "1"},
            {"nature": "ressource", "libelle": "Vente de textiles triés", "montant": "40000", "annee": "2"},
        ]
        logged = session.exec(
            select(FactChange).where(FactChange.project_id == projet_id, FactChange.field == "budget")
        ).one()
        assert logged.source == f"formulaire de l'étape 3 ({email})"
