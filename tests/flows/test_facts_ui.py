"""The facts of a stage typed in its gate form in the Prefect UI itself (headless Chromium): at the feasibility
gate a person adds budget lines with « Add item » (an array of objects is drawn as one sub-form per line),
picks their nature and year from drop-downs, submits, and the lines are in the application's database."""

import pytest
from playwright.sync_api import Browser, Locator, Page
from sqlmodel import select

from flows.harness.scenario import gate
from implantation.db.models import FactChange, ImplantationProject
from implantation.db.session import session_scope
from tests.flow_stack import FlowStack
from tests.flows.test_resume_form_ui import _logged, browser  # noqa: F401  (the Chromium fixture)

pytestmark = [pytest.mark.prefect, pytest.mark.ui]


def _pick_decision(page: Page, dialog: Locator, decision: str) -> None:
    """The decision is a drop-down of the schema's enum; the keyboard opens it."""
    dialog.locator(".p-select-button__control").first.focus()
    page.keyboard.press("ArrowDown")
    page.get_by_role("option", name=decision, exact=True).click()


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
def test_stage_3_budget_lines_are_added_in_the_prefect_ui(flow_stack: FlowStack, browser: Browser) -> None:  # noqa: F811
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
        etp = dialog.locator(".schema-form-property").filter(has_text="Postes d'insertion (ETP) (Optional)")
        etp.locator("textarea").first.fill("8")
        _pick_decision(page, dialog, "approuver")
        add = dialog.get_by_role("button", name="Add item").first
        add.click()
        add.click()
        # Each line is a sub-form (card) of the draggable list: two boxes and two drop-downs.
        lines = dialog.locator(".p-draggable-list__item")
        _fill_line(page, lines.nth(0), "Salaires de l'encadrement", "95 000", "charge", "1")
        _fill_line(page, lines.nth(1), "Vente de textiles triés", "40000", "ressource", "2")
        dialog.get_by_role("button", name="Submit").click()
        # The dialog closes when the server has resumed the run; a loaded machine may take longer than
        # Playwright's 30 s default (seen once while other stacks ran on the same two cores).
        dialog.wait_for(state="hidden", timeout=120_000)
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
        assert project.insertion_posts_etp == 8
        logged = session.exec(
            select(FactChange).where(FactChange.project_id == projet_id, FactChange.field == "budget")
        ).one()
        assert logged.source == f"formulaire de l'étape 3 ({email})"
