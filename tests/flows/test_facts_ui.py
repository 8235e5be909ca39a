"""The facts of a stage typed in its gate form in the Prefect UI itself (headless Chromium): a list of lines
(an array of objects) is drawn as one sub-form per line, « Add item » adds one. At the feasibility gate a
person adds budget lines and picks their nature and year from drop-downs; at the co-construction gate, a
post with its working schedule and weekly hours. Each time the person submits, and the lines are in the
application's database, logged with that person."""

from collections.abc import Callable, Sequence

import pytest
from playwright.sync_api import Browser, Locator, Page
from sqlmodel import select

from flows.harness.scenario import gate
from implantation.db.models import FactChange, ImplantationProject
from implantation.db.session import session_scope
from tests.flow_stack import FlowStack
from tests.flows.test_resume_form_ui import UI_TIMEOUT_MS, _logged, browser  # noqa: F401  (the Chromium fixture)

pytestmark = [pytest.mark.prefect, pytest.mark.ui]


def _pick(page: Page, control: Locator, label: str) -> None:
    """A drop-down of the schema's enum (decision, nature, year): the keyboard opens it."""
    control.focus()
    page.keyboard.press("ArrowDown")
    page.get_by_role("option", name=label, exact=True).click()


def _fill_line(page: Page, line: Locator, texts: Sequence[str], picks: Sequence[str] = ()) -> None:
    """One line of a list: its boxes typed in order, then its drop-downs picked in order."""
    boxes = line.locator("textarea, input[type=text]")
    for n, text in enumerate(texts):
        boxes.nth(n).fill(text)
    for n, label in enumerate(picks):
        _pick(page, line.locator(".p-select-button__control").nth(n), label)


def _resume_in_ui(
    browser: Browser,  # noqa: F811
    url: str,
    heading: str,
    email: str,
    code: str,
    fill: Callable[[Page, Locator], None],
) -> None:
    """Open the run, click Resume, wait for the list ``heading``, type the approver and code, let ``fill``
    type the facts, approve and submit; returns once the server has resumed the run (the dialog closed)."""
    page = browser.new_page(viewport={"width": 1400, "height": 3000})
    page.set_default_timeout(UI_TIMEOUT_MS)
    try:
        page.goto(url)
        page.get_by_role("button", name="Resume").first.click()
        dialog = page.get_by_role("dialog")
        dialog.get_by_text(heading).first.wait_for()
        boxes = dialog.locator("textarea")
        boxes.nth(0).fill(email)
        boxes.nth(1).fill(code)
        fill(page, dialog)
        _pick(page, dialog.locator(".p-select-button__control").first, "approuver")
        dialog.get_by_role("button", name="Submit").click()
        dialog.wait_for(state="hidden")
    finally:
        page.close()


def _to_gate(fs: FlowStack, stages: int) -> tuple[int, str, str]:
    """A new project whose gates 1 to ``stages`` - 1 are approved through the resume API; returns the project,
    the run waiting at gate ``stages`` and that gate's key."""
    driver = fs.driver()
    projet_id = driver.start()
    e = fs.ids.emails
    for stage in range(1, stages + 1):
        driver.stage_work(projet_id, stage)
    driver.answer(projet_id, 1, gate(e["cheffe.projet.disp"]), "étape 1")
    sourcing = {"siae_sourcees": [driver.siae(fs.ids.siae_id)], "siae_retenue": driver.siae(fs.ids.siae_id)}
    driver.answer(projet_id, 2, gate(e["referent.dreets"], activite="Tri de textiles", **sourcing), "étape 2")
    if stages > 3:
        driver.answer(projet_id, 3, gate(e["direction.cp-varces"]), "étape 3")
    run, details = driver.wait_gate(projet_id, stages)
    return projet_id, run, str(details["pause_key"])


def _logged_change(fs: FlowStack, projet_id: int, field: str) -> FactChange:
    with session_scope(fs.engine) as session:
        return session.exec(
            select(FactChange).where(FactChange.project_id == projet_id, FactChange.field == field)
        ).one()


@pytest.mark.parametrize("flow_stack", ["sqlite"], indirect=True)
def test_stage_3_budget_lines_are_added_in_the_prefect_ui(flow_stack: FlowStack, browser: Browser) -> None:  # noqa: F811
    """At the feasibility gate a person adds two budget lines with « Add item », types the facts, submits:
    the lines are in the application's database, logged with that person."""
    fs = flow_stack
    projet_id, run, key = _to_gate(fs, 3)
    email = fs.ids.emails["spip38"]

    def fill(page: Page, dialog: Locator) -> None:
        # Pre-filled: the activity chosen at stage 2 is shown in its box.
        assert "Tri de textiles" in [b.input_value() for b in dialog.locator("textarea").all()]
        etp = dialog.locator(".schema-form-property").filter(has_text="Postes d'insertion (ETP) (Optional)")
        etp.locator("textarea").first.fill("8")
        add = dialog.get_by_role("button", name="Add item").first
        add.click()
        add.click()
        # Each line is a sub-form (card) of the draggable list: two boxes (libellé, montant), two drop-downs.
        lines = dialog.locator(".p-draggable-list__item")
        _fill_line(page, lines.nth(0), ["Salaires de l'encadrement", "95 000"], ["charge", "1"])
        _fill_line(page, lines.nth(1), ["Vente de textiles triés", "40000"], ["ressource", "2"])

    code = fs.driver().received_code(projet_id, 3, email)
    url = f"{fs.stack.ui_url}/runs/flow-run/{run}"
    _resume_in_ui(browser, url, "Budget prévisionnel (années 1 et 2)", email, code, fill)

    decision = _logged(fs, key)
    assert decision.accepted, decision.reason
    with session_scope(fs.engine) as session:
        project = session.get(ImplantationProject, projet_id)
        assert project is not None and project.budget_lines == [
            {"nature": "charge", "libelle": "Salaires de l'encadrement", "montant": "95000", "annee": "1"},
            {"nature": "ressource", "libelle": "Vente de textiles triés", "montant": "40000", "annee": "2"},
        ]
        assert project.insertion_posts_etp == 8
    assert _logged_change(fs, projet_id, "budget").source == f"formulaire de l'étape 3 ({email})"


@pytest.mark.parametrize("flow_stack", ["sqlite"], indirect=True)
def test_stage_4_post_is_added_in_the_prefect_ui(flow_stack: FlowStack, browser: Browser) -> None:  # noqa: F811
    """At the co-construction gate a person adds a post with « Add item »: its title, ROME code, weekly hours
    (« 24,5 », a French decimal), working schedule, missions and risks; submitted, the post is in the
    application's database (where the opérateurs' CSV finds it by its title), the change logged with that
    person."""
    fs = flow_stack
    projet_id, run, key = _to_gate(fs, 4)
    email = fs.ids.emails["spip38"]
    post = {
        "intitule": "Agent de tri de textiles",
        "code_rome": "H3302",
        "heures_hebdomadaires": "24,5",
        "horaires": "Du lundi au jeudi, de 8 h 00 à 14 h 30, pause de 30 minutes",
        "missions": "Tri, pesée et conditionnement des textiles collectés",
        "risques": "Port de charges ; poussières textiles",
    }

    def fill(page: Page, dialog: Locator) -> None:
        dialog.get_by_role("button", name="Add item").first.click()
        # One card of six boxes, in the order of the domain model's fields (``implantation.dossier.Poste``).
        _fill_line(page, dialog.locator(".p-draggable-list__item").first, list(post.values()))

    code = fs.driver().received_code(projet_id, 4, email)
    _resume_in_ui(browser, f"{fs.stack.ui_url}/runs/flow-run/{run}", "Postes de travail", email, code, fill)

    decision = _logged(fs, key)
    assert decision.accepted, decision.reason
    stored = {**post, "heures_hebdomadaires": "24.5"}
    with session_scope(fs.engine) as session:
        project = session.get(ImplantationProject, projet_id)
        assert project is not None and project.posts == [stored]
    logged = _logged_change(fs, projet_id, "postes")
    assert logged.source == f"formulaire de l'étape 4 ({email})"
    assert logged.actor_label and logged.old_value is None
    assert "Du lundi au jeudi, de 8 h 00 à 14 h 30" in (logged.new_value or "")
