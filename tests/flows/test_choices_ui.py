"""Choices by name in the Prefect UI itself (headless Chromium): a DISP lead starts an implantation by
picking the establishment and himself from the run form's lists, and a DREETS agent picks the SIAEs from
the stage-2 gate's lists. Nothing is typed but the addresses, the activity and the reason."""

import time

import pytest
from playwright.sync_api import Browser, Locator, Page
from sqlmodel import Session, col, select

from flows.harness.scenario import gate
from implantation.db.models import CandidateSiae, ImplantationProject, Siae
from tests.flow_stack import FlowStack
from tests.flows.test_resume_form_ui import UI_TIMEOUT_MS, _logged, browser  # noqa: F401  (the Chromium fixture)

pytestmark = [pytest.mark.prefect, pytest.mark.ui]


def _pick(page: Page, scope: Locator, control: int, *labels: str) -> None:
    """Open the ``control``-th drop-down of ``scope`` and click each label, as a person would; the list is
    opened again when a click closed it, and Tab leaves it."""
    select = scope.locator(".p-select-button__control").nth(control)
    for label in labels:
        option = page.get_by_role("option", name=label, exact=True)
        if not option.is_visible():
            select.focus()
            page.keyboard.press("ArrowDown")
        option.click()
    select.focus()
    page.keyboard.press("Tab")


def _new_project(fs: FlowStack, before: set[int], timeout: float = 180) -> ImplantationProject:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with Session(fs.engine) as session:
            rows = session.exec(select(ImplantationProject).where(col(ImplantationProject.id).not_in(before)))
            found = rows.first()
            if found is not None:
                return found
        time.sleep(0.5)
    raise TimeoutError(f"Aucun projet créé depuis le formulaire après {timeout:.0f} s.")


@pytest.mark.parametrize("flow_stack", ["sqlite"], indirect=True)
def test_a_lead_and_an_agent_choose_from_lists(flow_stack: FlowStack, browser: Browser) -> None:  # noqa: F811
    fs = flow_stack
    driver = fs.driver()
    with Session(fs.engine) as session:
        before = {i for i in session.exec(select(ImplantationProject.id)) if i is not None}
        siaes = {s.id: s for s in session.exec(select(Siae))}
    site = "CP-GRENOBLE-VARCES — Centre pénitentiaire de Grenoble-Varces"
    lead = f"{fs.ids.emails['cheffe.projet.disp']} — Claire Duval, DISP LYON"
    page = browser.new_page(viewport={"width": 1400, "height": 2000})
    page.set_default_timeout(UI_TIMEOUT_MS)
    try:
        page.goto(
            f"{fs.stack.ui_url}/deployments/deployment/{fs.api.deployment_id('demarrer-implantation/demarrer-implantation')}/run"
        )
        page.get_by_text("Chef de projet DISP").first.wait_for()
        form = page.locator("body")
        _pick(page, form, 0, site)
        _pick(page, form, 1, lead)
        page.get_by_role("button", name="Submit").click()
        project = _new_project(fs, before)
        assert project.id is not None and project.establishment_id == fs.ids.establishment_id
        assert project.lead_id == fs.ids.lead_id
    finally:
        page.close()

    page = browser.new_page(viewport={"width": 1400, "height": 2000})
    page.set_default_timeout(UI_TIMEOUT_MS)
    try:
        driver.stage_work(project.id, 1)  # the COPILs and deliverables each approval requires
        driver.stage_work(project.id, 2)
        driver.answer(project.id, 1, gate(fs.ids.emails["cheffe.projet.disp"]), "étape 1 approuvée")
        run, details = driver.wait_gate(project.id, 2)
        remise, other = siaes[fs.ids.siae_id], siaes[fs.ids.other_siae_id]
        remise_label = f"{remise.siret} — {remise.name} ({remise.kind.value})"
        other_label = f"{other.siret} — {other.name} ({other.kind.value})"
        page.goto(f"{fs.stack.ui_url}/runs/flow-run/{run}")
        page.get_by_role("button", name="Resume").first.click()
        dialog = page.get_by_role("dialog")
        dialog.get_by_text("SIAE sourcées (Optional)").wait_for()
        boxes = dialog.locator("textarea")
        boxes.nth(0).fill(fs.ids.emails["referent.dreets"])
        # The code the agent received by e-mail for this gate, as a person copies it.
        boxes.nth(1).fill(driver.received_code(project.id, 2, fs.ids.emails["referent.dreets"]))
        boxes.last.fill("Tri de textiles")
        _pick(page, dialog, 0, "approuver")  # the next drop-down is « Étape de renvoi »
        _pick(page, dialog, 2, remise_label, other_label)
        _pick(page, dialog, 3, remise_label)
        dialog.get_by_role("button", name="Submit").click()
        dialog.wait_for(state="hidden")
    finally:
        page.close()
    decision = _logged(fs, str(details["pause_key"]))
    assert decision.accepted, decision.reason
    with Session(fs.engine) as session:
        chosen = session.get(ImplantationProject, project.id)
        assert chosen is not None and chosen.siae_id == remise.id and chosen.activity == "Tri de textiles"
        sourced = set(
            session.exec(select(CandidateSiae.siae_id).where(CandidateSiae.project_id == project.id))
        )
        assert sourced == {remise.id, other.id}
