"""A complete implantation played as its people would: the demo's script, reused by the tests.

Decisions go through the HTTP resume API (the UI's Resume button), and so do the facts of stages 1, 3 and 4,
typed in their gate forms; the rest (COPIL minutes, deliverables, the opérateurs, the stage-5 documents and
their signatures) goes through the ``siae`` commands a person types (:mod:`flows.harness.person`).
"""

import re
import tempfile
import time
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from flows.harness.api import PrefectApi
from flows.harness.person import (
    CommandFailed,
    Terminal,
    enter_stage_facts,
    import_sample_operateurs,
    record_stage_work,
    sample_dossier,
)
from flows.harness.samples import SampleIds
from flows.harness.smtp_sink import SmtpSink
from implantation.calendar import launch_date_problems
from implantation.cli.documents import PASSWORD_VARIABLE
from implantation.config.schema import ProcessConfig
from implantation.db.models import Establishment, ImplantationProject, Person, Siae, TransitionLog
from implantation.db.session import session_scope
from implantation.documents.builders import SHORT_LABEL
from implantation.documents.parties import printed_signer, signers_for_document
from implantation.documents.service import DocumentState, document_states, ensure_pdfs
from implantation.dossier import STAGE_MODELS
from implantation.enums import DocumentKind, Role
from implantation.services import choices
from implantation.services.gate_facts import form_values
from implantation.settings import Settings, get_settings
from implantation.signatures.authority import demo_authority

IMPLANTATION = "demarrer-implantation/demarrer-implantation"
CODE_LINE = re.compile(r"Votre code personnel pour cette décision : ([A-Z2-7]{5}-[A-Z2-7]{5})")

# The scenario's "today", given to the runner as SIAE_TODAY (see ``sandbox``): its dates (launch, August
# refusal, signatures) and the school-holiday data they are checked against never depend on the day it runs.
SCENARIO_TODAY = date(2026, 10, 1)


@dataclass
class Answer:
    etape: int
    key: str
    payload: dict[str, Any]
    status: str
    outcome: str


@dataclass
class Driver:
    api: PrefectApi
    engine: Engine
    cfg: ProcessConfig
    ids: SampleIds
    answers: list[Answer] = field(default_factory=list)
    today: date = SCENARIO_TODAY
    on_step: Callable[[str], None] = lambda _message: None
    sink: SmtpSink | None = None
    folder: Path | None = None
    # The runner's environment: its SIAE_* settings are the commands' too.
    app_env: dict[str, str] = field(default_factory=dict)
    # Export the stage-5 pack as PDF/A-2b (``siae documents generer --pdf``) before it is signed.
    pdf: bool = False
    _answered: dict[str, str] = field(default_factory=dict)

    def received_code(self, projet_id: int, etape: int, email: str) -> str:
        """The code in the last approval request (or re-sent code) ``email`` received for that gate, as a
        person reads it in their mailbox; "" for someone who received none."""
        if self.sink is None:
            return ""
        with session_scope(self.engine) as session:
            project = session.get(ImplantationProject, projet_id)
            assert project is not None
            reference = project.reference
        subjects = (
            f"{reference} – Décision attendue – étape {etape},",
            f"{reference} – Votre code de décision – étape {etape},",
        )
        for message in reversed(self.sink.messages):
            subject = str(message["Subject"])
            if email.lower() in str(message["To"]).lower() and any(s in subject for s in subjects):
                body = message.get_body(preferencelist=("plain",))
                found = CODE_LINE.search(str(body.get_content()) if body else "")
                if found:
                    return found.group(1)
        return ""

    @property
    def terminal(self) -> Terminal:
        """Where the ``siae`` commands run; their input files go to ``folder`` (a temporary one by default)."""
        if self.folder is None:
            self.folder = Path(tempfile.mkdtemp(prefix="siae-saisies-"))
        env = {k: v for k, v in self.app_env.items() if k.startswith("SIAE_") and k != "SIAE_DATABASE_URL"}
        return Terminal(self.engine.url.render_as_string(hide_password=False), self.folder, env)

    def email(self, key: str) -> str:
        return self.ids.emails[key]

    def siae(self, siae_id: int) -> str:
        """The SIAE as a person picks it in the gate form's list."""
        with session_scope(self.engine) as session:
            row = session.get(Siae, siae_id)
            assert row is not None
            return choices.siae_label(row)

    def start(self, date_debut: date | None = None) -> int:
        """Starts an implantation as a lead does in the run form: establishment and lead picked from lists."""
        with session_scope(self.engine) as session:
            site = session.get(Establishment, self.ids.establishment_id)
            lead = session.get(Person, self.ids.lead_id)
            assert site is not None and lead is not None
            params: dict[str, Any] = {
                "etablissement": choices.establishment_label(site),
                "chef_de_projet": choices.lead_label(lead),
            }
        params["date_debut"] = (date_debut or self.today).isoformat()
        run_id = self.api.run_deployment(IMPLANTATION, params)
        self.api.wait_state(run_id, {"COMPLETED"}, timeout=180)
        with session_scope(self.engine) as session:
            project = session.exec(
                select(ImplantationProject)
                .where(ImplantationProject.establishment_id == self.ids.establishment_id)
                .order_by(ImplantationProject.id.desc())  # type: ignore[union-attr]
            ).first()
            assert project is not None and project.id is not None
            return project.id

    def wait_gate(
        self, projet_id: int, etape: int, tentative: int = 1, timeout: float = 180
    ) -> tuple[str, dict[str, Any]]:
        run_id = self.api.stage_run(projet_id, etape, tentative, timeout=timeout)
        details = self.api.wait_paused(run_id, self._answered.get(run_id), timeout=timeout)
        return run_id, details

    def answer(
        self, projet_id: int, etape: int, payload: dict[str, Any], note: str, tentative: int = 1
    ) -> Answer:
        run_id, details = self.wait_gate(projet_id, etape, tentative)
        key = str(details.get("pause_key"))
        if "code" not in payload:
            payload = {**payload, "code": self.received_code(projet_id, etape, str(payload["approbateur"]))}
        response = self.api.resume(run_id, payload)
        status = str(response.get("status"))
        if status == "ACCEPT":
            self._answered[run_id] = key
            outcome = self.outcome(key)
        else:
            outcome = "formulaire refusé par le serveur, le run reste en attente"
        answer = Answer(etape, key, payload, status, outcome)
        self.answers.append(answer)
        self.on_step(f"Étape {etape} : {note}\n      → {outcome}")
        return answer

    def outcome(self, key: str, timeout: float = 180, poll: float = 0.2) -> str:
        """What the ``decide`` task logged for that answer, once it has run."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with session_scope(self.engine) as session:
                row = session.exec(select(TransitionLog).where(TransitionLog.idempotency_key == key)).first()
                if row is not None:
                    return f"enregistré ({row.transition})" if row.accepted else f"refusé : {row.reason}"
            time.sleep(poll)
        raise TimeoutError(f"Aucune décision enregistrée pour la saisie {key} après {timeout:.0f} s.")

    def stage_work(self, projet_id: int, etape: int) -> None:
        record_stage_work(self.terminal, self.cfg, projet_id, etape, self.today)

    def enter_facts(self, projet_id: int, etape: int, launch_on: date) -> None:
        """The facts of stage 1, 3 or 4 of the sample dossier, with ``siae projet completer`` (what the
        recovery tests and the national benchmark use; the scenario types them in the gate forms)."""
        enter_stage_facts(self.terminal, projet_id, etape, launch_on)

    def form_facts(self, etape: int, launch_on: date) -> dict[str, Any]:
        """The facts of stage 1, 3 or 4 of the sample dossier as a person types them in the gate's form."""
        return form_values(STAGE_MODELS[etape], sample_dossier(launch_on))

    def import_operateurs(self, projet_id: int, contract_start: date) -> None:
        """The DISP lead imports the sample opérateurs (``siae operateurs importer``), logged under her name."""
        import_sample_operateurs(self.terminal, projet_id, contract_start, by=self.ids.lead_id)

    def launch_date(self, after: date) -> date:
        with session_scope(self.engine) as session:
            project_dep = session.exec(
                select(Establishment.departement).where(Establishment.id == self.ids.establishment_id)
            ).one()
        zone = self.cfg.territory.departement[project_dep].zone_vacances
        for offset in range(366):
            day = after + timedelta(days=offset)
            if not launch_date_problems(day, project_dep, self.cfg.calendar, zone):
                return day
        raise RuntimeError(f"Aucune date de lancement possible dans l'année qui suit le {after:%d/%m/%Y}.")

    def leave_day(self, after: date) -> date:
        """A working day inside the summer leave period, refused as a launch date."""
        return (
            date(after.year + 1, 8, 3)
            if date(after.year + 1, 8, 3).weekday() < 5
            else date(after.year + 1, 8, 5)
        )

    def generate_documents(self, projet_id: int) -> str:
        """The lead produces the stage-5 pack again from the data recorded now (``siae documents generer``,
        with ``--pdf`` to export PDF/A-2b as well): a version whose content is unchanged is reused (signed or not),
        anything new or changed gets a version. Returns what happened, in French, as read in the database."""
        with session_scope(self.engine) as session:
            before = {s.record.id for s in document_states(session, projet_id, self.cfg)}
        self.terminal("documents", "generer", str(projet_id), *(["--pdf"] if self.pdf else []))
        with session_scope(self.engine) as session:
            latest = [s.record for s in document_states(session, projet_id, self.cfg) if s.latest]
        reused = _tally([r.kind for r in latest if r.id in before])
        created = _tally([r.kind for r in latest if r.id not in before])
        exported = " ; chacun exporté en PDF/A-2b" if self.pdf else ""
        return f"réutilisés car inchangés : {reused} ; nouveaux : {created}{exported}"

    def _project_drafts(self, session: Session, projet_id: int) -> list[DocumentState]:
        """The latest version of each project-level document (DUI, convention, contract), not the CEPs."""
        return [
            state
            for state in document_states(session, projet_id, self.cfg)
            if state.latest and state.record.operateur_id is None
        ]

    def export_drafts(self, projet_ids: list[int]) -> int:
        """The PDF/A of the unsigned DUI, convention and contract of many projects, in one LibreOffice pass
        (``ensure_pdfs``, what ``siae documents signer`` does for one version before signing it): the
        national benchmark's parties then sign without starting LibreOffice once per document."""
        ids: list[int] = []
        with session_scope(self.engine) as session:
            for projet_id in projet_ids:
                drafts = self._project_drafts(session, projet_id)
                ids += [state.record.id for state in drafts if state.missing and state.record.id is not None]
        ensure_pdfs(self.engine, Settings(soffice_path=self.app_env.get("SIAE_SOFFICE_PATH")), ids)
        return len(ids)

    def sign_drafts(self, projet_id: int) -> int:
        """Every party signs the latest DUI, convention and contract with a certificate file (``siae documents
        signer PROJET DOCUMENT --certificat``): a certificate of the demonstration authority issued to the
        person each signature block names, as the register checks. The command makes the version's PDF/A
        first if it was never exported: a signature is made on it."""
        authority = demo_authority(self.data_dir)
        todo: list[tuple[int, str, Path]] = []
        with session_scope(self.engine) as session:
            for state in self._project_drafts(session, projet_id):
                signers = signers_for_document(session, self.cfg, projet_id, None)
                for slot in state.missing:
                    who = signers[slot].printed
                    assert who is not None, f"aucun signataire nommé pour {slot.label}"
                    certificate = self.certificates / f"{_file_name(who.name)}.p12"
                    if not certificate.exists():
                        certificate.parent.mkdir(parents=True, exist_ok=True)
                        p12 = authority.issue_p12(who.name, who.organisation or who.office, DEMO_PASSWORD)
                        certificate.write_bytes(p12)
                    todo.append((state.record.id, who.name, certificate))  # type: ignore[arg-type]
        terminal = self.terminal
        signing = Terminal(
            terminal.database_url, terminal.folder, {**terminal.env, PASSWORD_VARIABLE: DEMO_PASSWORD}
        )
        for document_id, _name, certificate in todo:
            signing("documents", "signer", str(projet_id), str(document_id), "--certificat", str(certificate))
        return len(todo)

    @property
    def data_dir(self) -> Path:
        """Where the demonstration authority lives: the runner's data folder, or else the folder of the
        SQLite database, which every process of the sandbox shares (both are searched in test mode)."""
        configured = self.app_env.get("SIAE_DATA_DIR")
        if configured:
            return Path(configured)
        database = self.engine.url.database
        if self.engine.url.get_backend_name() == "sqlite" and database:
            return Path(database).parent
        return get_settings().data_dir

    @property
    def certificates(self) -> Path:
        """Where the demonstration's agents keep their certificate files."""
        assert self.terminal.folder is not None
        return self.terminal.folder / "certificats"

    def refused_demonstration_signatures(self, projet_id: int) -> int:
        """The SIAE tries to sign each latest document made with a demonstration amount: each is refused."""
        todo: list[tuple[int, str]] = []
        with session_scope(self.engine) as session:
            for state in document_states(session, projet_id, self.cfg):
                if state.latest and state.record.demonstration:
                    signer = printed_signer(
                        session, self.cfg, projet_id, state.record.operateur_id, state.record.kind, Role.SIAE
                    )
                    assert state.record.id is not None and signer is not None
                    todo.append((state.record.id, signer[1]))
        for document_id, label in todo:
            try:
                self.terminal(
                    "documents",
                    "signer",
                    str(document_id),
                    "--role",
                    "siae",
                    "--signataire",
                    label,
                    "--date",
                    self.today.isoformat(),
                )
            except CommandFailed as refused:
                assert "document de démonstration" in str(refused), refused
            else:
                raise AssertionError(f"document de démonstration n° {document_id} signé")
        return len(todo)


DEMO_PASSWORD = "demonstration"


def _file_name(name: str) -> str:
    return re.sub(
        r"[^A-Za-z0-9]+", "-", unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    ).strip("-")


def _tally(kinds: list[DocumentKind]) -> str:
    """« DUI, Convention IAE, CEP ×3 » in the pack's order; « aucun » for none."""
    counts = Counter(kinds)
    return (
        ", ".join(
            f"{SHORT_LABEL[k]}{f' ×{counts[k]}' if counts[k] > 1 else ''}"
            for k in DocumentKind
            if k in counts
        )
        or "aucun"
    )


def gate(email: str, decision: str = "approuver", **fields: Any) -> dict[str, Any]:
    return {"approbateur": email, "decision": decision, **fields}


def full_implantation(driver: Driver, projet_id: int) -> date:
    """The demo's path through the six gates, with a refusal, an invalid input, a rejection and re-asks."""
    email = driver.email
    launch_on = driver.launch_date(driver.today + timedelta(days=60))
    driver.stage_work(projet_id, 1)
    driver.answer(
        projet_id,
        1,
        gate(email("spip38")),
        "le SPIP tente d'approuver (rôle non habilité) : refusé, redemandé",
    )
    driver.answer(
        projet_id,
        1,
        gate(email("cheffe.projet.disp"), code="ABCDE-23456"),
        "quelqu'un saisit l'adresse de la cheffe de projet sans son code : refusé, nouveaux codes envoyés",
    )
    driver.answer(
        projet_id,
        1,
        gate(email("cheffe.projet.disp"), **driver.form_facts(1, launch_on)),
        "la DISP saisit dans le formulaire les locaux et le binôme SPIP/EP, et confirme l'établissement "
        "(code lu dans son courriel)",
    )

    driver.stage_work(projet_id, 2)
    sourcing: dict[str, Any] = {
        "siae_sourcees": [driver.siae(driver.ids.siae_id), driver.siae(driver.ids.other_siae_id)],
        "activite": "Tri de textiles",
    }
    driver.answer(
        projet_id,
        2,
        gate(email("referent.dreets"), decision="valider", **sourcing),
        "décision inconnue « valider » : refusée par le formulaire (schéma), le run reste en attente",
    )
    driver.answer(
        projet_id,
        2,
        gate(email("referent.dreets"), siae_retenue=driver.siae(driver.ids.other_siae_id), **sourcing),
        "la DREETS retient une ETTI : refusé (seuls ACI et EI), redemandé avec l'erreur",
    )
    driver.answer(
        projet_id,
        2,
        gate(email("referent.dreets"), siae_retenue=driver.siae(driver.ids.siae_id), **sourcing),
        "la DREETS retient La Remise (ACI), tri de textiles",
    )

    driver.stage_work(projet_id, 3)
    driver.answer(
        projet_id,
        3,
        gate(
            email("direction.cp-varces"),
            decision="rejeter",
            motif="Le budget prévisionnel ne montre pas le retour sur investissement à 2 ans.",
        ),
        "l'établissement rejette l'étude de faisabilité (motif donné) : l'étape reste ouverte",
    )
    driver.answer(
        projet_id,
        3,
        gate(email("direction.cp-varces"), **driver.form_facts(3, launch_on)),
        "l'établissement saisit dans le formulaire les postes, l'encadrement, la date et les lignes du budget "
        "prévisionnel, et valide l'étude de faisabilité",
    )

    driver.stage_work(projet_id, 4)
    driver.answer(
        projet_id,
        4,
        gate(email("spip38"), **driver.form_facts(4, launch_on)),
        "le SPIP saisit dans le formulaire l'accompagnement, les partenaires, les postes de travail (horaires "
        "et durée hebdomadaire de chacun), les dates de la convention et du contrat, et valide la "
        "co-construction (feuille de route)",
    )

    driver.stage_work(projet_id, 5)
    # The gate opened with the pack produced from the facts of stages 1 to 4 and sent as drafts to the SIAE.
    # The opérateurs, recruited on the posts of stage 4, are entered now; the lead then produces the pack
    # again from the current data, before anyone signs (a signed version is never reused).
    driver.wait_gate(projet_id, 5)
    driver.import_operateurs(projet_id, launch_on)
    driver.on_step("Étape 5 : la DISP importe les opérateurs affectés aux postes (siae operateurs importer)")
    produced = driver.generate_documents(projet_id)
    command = "siae documents generer --pdf" if driver.pdf else "siae documents generer"
    driver.on_step(
        f"Étape 5 : documents produits de nouveau à partir des données actuelles ({command}) : {produced}"
    )
    signatures = driver.sign_drafts(projet_id)
    driver.on_step(
        f"Étape 5 : {signatures} signature(s) électronique(s) PAdES faites avec des certificats de l'autorité de "
        "DÉMONSTRATION (siae documents signer … --certificat), vérifiées et enregistrées"
    )
    refused = driver.refused_demonstration_signatures(projet_id)
    driver.on_step(
        f"Étape 5 : {refused} document(s) de démonstration (taux AT/MP fictif de l'établissement, en-tête sur "
        "chaque page) : la signature est refusée"
    )
    driver.answer(projet_id, 5, gate(email("referent.dreets")), "la DREETS approuve la convention IAE")

    driver.stage_work(projet_id, 6)
    checklist: dict[str, Any] = {
        "locaux_amenages": True,
        "interlocuteurs_nommes": True,
        "protocole_sortie": True,
    }
    driver.answer(
        projet_id,
        6,
        gate(
            email("direction.laremise"), date_lancement=driver.leave_day(launch_on).isoformat(), **checklist
        ),
        "date de démarrage en août : refusée (congés d'été), redemandée",
    )
    driver.answer(
        projet_id,
        6,
        gate(email("direction.laremise"), date_lancement=launch_on.isoformat(), **checklist),
        f"la SIAE confirme la liste de lancement et la date du {launch_on:%d/%m/%Y}",
    )
    run_id = driver.api.stage_run(projet_id, 6)
    driver.api.wait_state(run_id, {"COMPLETED"}, timeout=180)
    return launch_on
