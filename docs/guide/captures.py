"""``make captures``: the screens shown in the user guides, taken from a real demonstration server.

The guides show the screens a person meets rather than describe them; taking them from the product itself,
with one command, keeps them true when a form or a document changes. It plays the demonstration's
implantation (``flows.harness.scenario``), then drives the Prefect UI in the system's Chromium as the UI
tests do, and writes the PNGs beside this file (``captures/``).
"""

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import Browser, Locator, Page, sync_playwright
from sqlmodel import col, select

from flows.harness.browser import CHROMIUM_ARGS
from flows.harness.sandbox import sandbox
from flows.harness.scenario import SCENARIO_TODAY, Driver, full_implantation, gate
from implantation.config.loader import demo_config, get_process_config
from implantation.db.models import DocumentRecord, ImplantationProject
from implantation.db.session import session_scope
from implantation.documents.service import project_dir
from implantation.enums import DocumentKind
from implantation.settings import Settings

HERE = Path(__file__).resolve().parent
OUT = HERE / "captures"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
TIMEOUT_MS = 120_000
IMPLANTATION = "demarrer-implantation/demarrer-implantation"
OVERVIEW = "tableau-national/tableau-national"
# More establishments, each with its DISP lead and a project, some started long enough ago to be late: the
# national chart then shows what ATIGIP meets (fictitious people, as in ``config/echantillons``).
OTHER_SITES = [
    ("MA-MOULINS", "Maison d'arrêt de Moulins", "MA", "03", "Moulins", "LYON", "2026-03-02"),
    ("CP-PERPIGNAN", "Centre pénitentiaire de Perpignan", "CP", "66", "Perpignan", "TOULOUSE", "2026-09-01"),
    ("CD-OERMINGEN", "Centre de détention d'Oermingen", "CD", "67", "Oermingen", "STRASBOURG", "2026-04-01"),
    (
        "CP-MEAUX-CHAUCONIN",
        "Centre pénitentiaire de Meaux-Chauconin",
        "CP",
        "77",
        "Chauconin",
        "PARIS",
        "2026-09-15",
    ),
]


def _say(message: str) -> None:
    print(f"  • {message}", flush=True)


def _page(browser: Browser, height: int = 1100) -> Page:
    page = browser.new_page(viewport={"width": 1280, "height": height})
    page.set_default_timeout(TIMEOUT_MS)
    return page


def _open_gate(page: Page, url: str) -> Locator:
    """The run's page, then its form, as a person opens it from the e-mail's link."""
    page.goto(url)
    page.get_by_role("button", name="Resume").first.click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text("Adresse électronique de l'approbateur").wait_for()
    return dialog


def _field(page: Page, dialog: Locator, label: str) -> Locator:
    title = page.locator(".schema-form-property__label", has_text=label)
    return dialog.locator(".p-label.schema-form-property").filter(has=title).last


def _choose(page: Page, field: Locator, option: str) -> None:
    field.locator(".p-select-button__control").focus()  # the keyboard opens the drop-down
    page.keyboard.press("ArrowDown")
    page.get_by_role("option", name=option, exact=True).click()


def _run_form(browser: Browser, ui_url: str, deployment_id: str) -> None:
    page = _page(browser, 900)
    try:
        page.goto(f"{ui_url}/deployments/deployment/{deployment_id}/run")
        page.get_by_text("Chef de projet DISP").first.wait_for()
        page.wait_for_load_state("networkidle")
        # The establishment's list opened, as the lead sees it before choosing.
        page.locator(".p-select-button__control").first.focus()
        page.keyboard.press("ArrowDown")
        page.get_by_role("option").first.wait_for()
        page.screenshot(path=OUT / "01-formulaire-demarrer.png")
    finally:
        page.close()


def _gate_and_refusal(browser: Browser, driver: Driver, ui_url: str, projet_id: int) -> None:
    """The gate form with its description, its code field, then the form re-asked after a refusal."""
    run, first = driver.wait_gate(projet_id, 1)
    url = f"{ui_url}/runs/flow-run/{run}"
    lead = driver.email("cheffe.projet.disp")
    page = _page(browser, 1800)
    try:
        dialog = _open_gate(page, url)
        dialog.screenshot(path=OUT / "02-porte-formulaire.png")
        boxes = dialog.locator("textarea")
        boxes.nth(0).fill(lead)
        boxes.nth(1).fill(driver.received_code(projet_id, 1, lead))
        _field(page, dialog, "Code reçu par courriel").screenshot(path=OUT / "03-champ-code.png")
        # A rejection without its reason: the form accepts it, the stage refuses it and asks again.
        _choose(page, _field(page, dialog, "Décision"), "rejeter")
        dialog.get_by_role("button", name="Submit").click()
        dialog.wait_for(state="hidden")
    finally:
        page.close()
    driver.outcome(str(first["pause_key"]))
    driver.api.wait_paused(run, str(first["pause_key"]))
    page = _page(browser, 1800)
    try:
        dialog = _open_gate(page, url)
        dialog.get_by_text("La saisie précédente n'a pas été retenue").wait_for()
        dialog.screenshot(path=OUT / "04-refus.png")
    finally:
        page.close()


def _send_back_list(browser: Browser, driver: Driver, ui_url: str, projet_id: int) -> None:
    driver.answer(projet_id, 1, gate(driver.email("cheffe.projet.disp")), "étape 1 approuvée")
    run, _details = driver.wait_gate(projet_id, 2)
    url = f"{ui_url}/runs/flow-run/{run}"
    page = _page(browser, 1800)
    try:
        dialog = _open_gate(page, url)
        field = _field(page, dialog, "Étape de renvoi")
        field.locator(".p-select-button__control").focus()
        page.keyboard.press("ArrowDown")
        page.get_by_role("option").first.wait_for()
        field.scroll_into_view_if_needed()
        box = field.bounding_box()
        assert box is not None
        page.screenshot(
            path=OUT / "05-etape-renvoi.png",
            clip={"x": box["x"] - 10, "y": box["y"] - 10, "width": box["width"] + 20, "height": 260},
        )
    finally:
        page.close()


def _other_projects(driver: Driver) -> None:
    siae = driver.terminal
    for code, name, kind, department, town, disp, start in OTHER_SITES:
        lead = f"chef.projet.{disp.lower()}@example.org"
        siae(
            "ajouter",
            "etablissement",
            "--code",
            code,
            "--nom",
            name,
            "--type",
            kind,
            "--departement",
            department,
            "--ville",
            town,
        )
        siae(
            "ajouter",
            "personne",
            "--nom",
            f"Chef de projet {disp.title()} (fictif)",
            "--email",
            lead,
            "--organisation",
            f"DISP de {disp.title()}",
            "--role",
            "disp",
            "--territoire",
            disp,
        )
        siae("projet", "creer", "--etablissement", code, "--chef", lead, "--debut", start)
    # The daily overview goes to the ATIGIP people.
    siae(
        "ajouter", "personne", "--nom", "Administrateur ATIGIP (fictif)", "--email", "atigip@example.org",
        "--organisation", "ATIGIP", "--role", "atigip", "--territoire", "FR",
    )  # fmt: skip


def _national(browser: Browser, driver: Driver, ui_url: str) -> None:
    """The daily overview, run on demand: its artifact in the UI, and the chart mailed to ATIGIP."""
    sink = driver.sink
    assert sink is not None
    before = len(sink.messages)
    run = driver.api.run_deployment(OVERVIEW, {})
    driver.api.wait_state(run, {"COMPLETED"}, timeout=300)
    for message in sink.messages[before:]:
        for part in message.iter_attachments():
            if (part.get_filename() or "").endswith(".png"):
                (OUT / "06-graphique-national.png").write_bytes(part.get_content())
    if not (OUT / "06-graphique-national.png").exists():
        raise RuntimeError("Le courriel du tableau national n'a pas de graphique.")
    page = _page(browser, 900)
    try:
        latest = max(
            (a for a in driver.api.artifacts() if a.get("key") == "tableau-national"),
            key=lambda artifact: str(artifact["created"]),
        )
        page.goto(f"{ui_url}/artifacts/artifact/{latest['id']}")
        page.locator("table").first.wait_for()
        page.wait_for_load_state("networkidle")
        page.screenshot(path=OUT / "07-tableau-national-artefact.png")
    finally:
        page.close()


def _first_page(driver: Driver, settings: Settings, projet_id: int) -> None:
    """The DUI's first page, as the PDF/A the lead sends for signature."""
    with session_scope(driver.engine) as session:
        project = session.get(ImplantationProject, projet_id)
        assert project is not None
        record = session.exec(
            select(DocumentRecord)
            .where(DocumentRecord.project_id == projet_id, DocumentRecord.kind == DocumentKind.DUI)
            .order_by(col(DocumentRecord.version).desc())
        ).first()
        assert record is not None and record.pdf_filename, "aucun PDF du DUI"
        pdf = project_dir(settings, project.reference) / record.pdf_filename
    stem = OUT / "08-document-dui"
    subprocess.run(
        ["pdftoppm", "-png", "-r", "70", "-f", "1", "-l", "1", "-singlefile", str(pdf), str(stem)], check=True
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Captures d'écran des guides (serveur de démonstration).")
    parser.add_argument("--dossier", type=Path, default=None, help="Répertoire de travail (temporaire sinon)")
    args = parser.parse_args(argv)
    if CHROMIUM is None or shutil.which("pdftoppm") is None:
        print("Chromium et pdftoppm (poppler-utils) sont nécessaires.", file=sys.stderr)
        return 2
    base = args.dossier or Path(tempfile.mkdtemp(prefix="siae-captures-"))
    shutil.rmtree(base, ignore_errors=True)
    base.mkdir(parents=True)
    OUT.mkdir(exist_ok=True)
    settings = Settings(
        data_dir=base / "donnees",
        database_url=f"sqlite:///{base / 'donnees' / 'siae.db'}",
        config_dir=demo_config(base / "configuration"),
    )
    with sandbox(
        base,
        settings.effective_database_url,
        settings.data_dir,
        extra={"SIAE_CONFIG_DIR": str(settings.config_dir)},
        today=SCENARIO_TODAY,
    ) as box:
        box.stack.start(schedules=False)
        _say(f"serveur de démonstration : {box.stack.ui_url}")
        driver = Driver(
            box.api,
            box.engine,
            get_process_config(settings.config_dir),
            box.ids,
            sink=box.sink,
            folder=base / "saisies",
            app_env=box.stack.env,
            pdf=True,
        )
        done = driver.start()
        full_implantation(driver, done)
        _say("implantation de démonstration menée à son terme (documents en PDF/A)")
        _first_page(driver, settings, done)
        waiting = driver.start(SCENARIO_TODAY)
        driver.stage_work(waiting, 1)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                _run_form(browser, box.stack.ui_url, box.api.deployment_id(IMPLANTATION))
                _gate_and_refusal(browser, driver, box.stack.ui_url, waiting)
                _send_back_list(browser, driver, box.stack.ui_url, waiting)
                _other_projects(driver)
                _national(browser, driver, box.stack.ui_url)
            finally:
                browser.close()
    for png in sorted(OUT.glob("*.png")):
        _say(f"{png.relative_to(HERE)}")
    if args.dossier is None:
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
