"""The facts of stages 1, 3 and 4 entered in their gate forms (``tasks.persist.apply_answer`` with ``shown``),
on both backends: pre-filled from what is recorded, saved with the accepted decision and logged with the
approver, refused in French naming the field (nothing written), empty or untouched fields kept."""

from datetime import date
from typing import Any

import factories
import pytest
from sqlmodel import Session, col, select

from flows.gates import form_for, prefilled
from implantation.config.schema import ProcessConfig
from implantation.db.models import Establishment, FactChange, ImplantationProject, Person, TransitionLog
from implantation.enums import Role
from implantation.services import gate_codes
from implantation.services.dossier import complete, parse_dossier
from implantation.services.gate_facts import UNCHANGED, shown_values
from implantation.services.workflow import Actor, open_stage
from tasks.persist import GateResult
from tasks.persist import apply_answer as _apply_answer

TODAY = date(2026, 12, 10)
BUDGET = [
    {"nature": "charge", "libelle": "Salaires de l'encadrement", "montant": "95 000", "annee": 1},
    {"nature": "ressource", "libelle": "Vente de textiles triés", "montant": "40000,50", "annee": 2},
]


def _answer(
    session: Session,
    cfg: ProcessConfig,
    project: ImplantationProject,
    stage: int,
    key: str,
    email: str,
    **facts: Any,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """What the stage's form sends: the values it showed (pre-filled), overwritten by ``facts``; and those shown."""
    assert project.id is not None
    shown = shown_values(session, cfg, project, stage)
    form = prefilled(form_for(stage, cfg), shown)
    person = session.exec(select(Person).where(Person.email == email)).one()
    assert person.id is not None
    code = gate_codes.current_code(session, factories.SECRET, project.id, stage, person.id, key)
    given = {"decision": "approuver", **facts}
    answer = form(approbateur=email, code=code, **given).model_dump(mode="json")
    return answer, shown


def _apply(
    session: Session,
    cfg: ProcessConfig,
    project: ImplantationProject,
    stage: int,
    key: str,
    email: str,
    **facts: Any,
) -> GateResult:
    assert project.id is not None
    factories.stage_work(session, cfg, project.id, stage)
    answer, shown = _answer(session, cfg, project, stage, key, email, **facts)
    return _apply_answer(session, cfg, project.id, stage, key, answer, TODAY, factories.SECRET, shown)


def _changes(session: Session, project_id: int) -> list[FactChange]:
    return list(
        session.exec(
            select(FactChange).where(FactChange.project_id == project_id).order_by(col(FactChange.id))
        )
    )


def _at_stage(session: Session, cfg: ProcessConfig, stage: int) -> tuple[ImplantationProject, str]:
    """A project whose stage ``stage`` is open, and the address of someone who decides there."""
    factories.siae(session, cfg)
    project, lead = factories.project(session, cfg)
    if stage == 1:
        return project, lead.email
    open_stage(session, cfg, project, stage, project.started_on)
    spip = factories.person(session, cfg, Role.SPIP, "38")
    return project, spip.email


def test_stage_1_form_saves_the_premises_and_the_joint_lead_logged_with_the_approver(
    session: Session, cfg: ProcessConfig
) -> None:
    project, email = _at_stage(session, cfg, 1)
    assert project.id is not None
    result = _apply(
        session,
        cfg,
        project,
        1,
        "k1",
        email,
        locaux="Atelier de 300 m², deux bureaux",
        chef_projet_commun="Camille Exemple (SPIP et CP)",
    )
    assert result.accepted, result.problems
    site = session.get(Establishment, project.establishment_id)
    assert site is not None and site.premises == "Atelier de 300 m², deux bureaux"
    assert project.joint_lead == "Camille Exemple (SPIP et CP)"
    changes = _changes(session, project.id)
    assert {c.field for c in changes} == {"locaux", "chef_projet_commun"}
    assert all(c.actor_label == "Disp Exemple" and c.actor_id is not None for c in changes)
    assert all(c.source == f"formulaire de l'étape 1 ({email})" for c in changes)


def test_stage_3_form_is_prefilled_saves_the_budget_and_keeps_what_is_left_empty(
    session: Session, cfg: ProcessConfig
) -> None:
    project, email = _at_stage(session, cfg, 3)
    assert project.id is not None
    complete(session, cfg, project, parse_dossier({"ateliers": 1, "eti_etp": "1,5"}), Actor(label="CLI"))
    shown = shown_values(session, cfg, project, 3)
    assert shown["ateliers"] == "1" and shown["eti_etp"] == "1,5" and shown["budget"] == []
    schema = prefilled(form_for(3, cfg), shown).model_json_schema()["properties"]
    assert schema["ateliers"]["default"] == "1" and schema["ateliers"]["title"] == "Nombre d'ateliers"

    # Two budget lines and the posts; ``ateliers`` and ``eti_etp`` left as shown, ``cip_etp`` left empty.
    # Entered with a rejection (the stage stays open): facts go with any decision accepted.
    result = _apply(
        session,
        cfg,
        project,
        3,
        "k1",
        email,
        decision="rejeter",
        motif="Le pré-calendrier manque",
        budget=BUDGET,
        postes_insertion="10",
        postes_etp="8",
        date_demarrage_prevue="10/01/2028",
    )
    assert result.accepted, result.problems
    session.refresh(project)
    assert project.budget_lines == [
        {"nature": "charge", "libelle": "Salaires de l'encadrement", "montant": "95000", "annee": "1"},
        {"nature": "ressource", "libelle": "Vente de textiles triés", "montant": "40000.5", "annee": "2"},
    ]
    assert (project.insertion_posts_count, project.insertion_posts_etp) == (10, 8)
    assert project.launch_date == date(2028, 1, 10)
    assert (project.workshops_count, project.staff_eti_etp, project.staff_cip_etp) == (1, 1.5, None)
    logged = [c.field for c in _changes(session, project.id) if c.source and "formulaire" in c.source]
    assert sorted(logged) == ["budget", "date_demarrage_prevue", "postes_etp", "postes_insertion"]

    # The form now shows the lines recorded; emptied fields and an emptied list change nothing.
    again = shown_values(session, cfg, project, 3)
    assert [line["montant"] for line in again["budget"]] == ["95000", "40000,5"]
    before = len(_changes(session, project.id))
    kept = _apply(session, cfg, project, 3, "k2", email, budget=[], ateliers="", postes_etp=" ")
    assert kept.accepted, kept.problems
    session.refresh(project)
    assert len(project.budget_lines or []) == 2 and project.workshops_count == 1
    assert len(_changes(session, project.id)) == before


@pytest.mark.parametrize(
    ("facts", "problem"),
    [
        (
            {"budget": [{**BUDGET[0], "montant": "beaucoup"}]},
            "champ « Budget prévisionnel (années 1 et 2) », ligne 1, « Montant annuel (euros) » : "
            "nombre attendu, lu « beaucoup »",
        ),
        ({"postes_etp": "huit"}, "champ « Postes d'insertion (ETP) » : nombre attendu, lu « huit »"),
        ({"ateliers": "1,5"}, "champ « Nombre d'ateliers » : nombre entier attendu"),
        (
            {"postes_insertion": "2", "postes_etp": "3"},
            "champ « Postes d'insertion (ETP) » : postes_etp (3) dépasse le nombre de postes d'insertion (2)",
        ),
        (
            {"date_demarrage_prevue": "2026-08-03"},
            "champ « Date de démarrage prévue » : le 03/08/2026 précède le début du projet (01/10/2026)",
        ),
    ],
)
def test_a_refused_fact_names_its_field_is_logged_and_nothing_is_written(
    session: Session, cfg: ProcessConfig, facts: dict[str, Any], problem: str
) -> None:
    project, email = _at_stage(session, cfg, 3)
    assert project.id is not None
    result = _apply(session, cfg, project, 3, "k1", email, activite="Tri de textiles", **facts)
    assert not result.accepted and result.problems == [problem]
    row = session.exec(select(TransitionLog).where(TransitionLog.idempotency_key == "k1")).one()
    assert row.transition == "refus_approuver" and not row.accepted and row.reason == problem
    session.refresh(project)
    assert project.activity is None and _changes(session, project.id) == []
    # The stage is still open: the same person answers again, corrected, at the next key.
    fixed = _apply(session, cfg, project, 3, "k2", email, activite="Tri de textiles")
    assert fixed.accepted, fixed.problems
    # A replay of the refused answer reads its refusal back and writes nothing.
    answer, shown = _answer(session, cfg, project, 3, "k1", email, activite="Autre", **facts)
    replay = _apply_answer(session, cfg, project.id, 3, "k1", answer, TODAY, factories.SECRET, shown)
    assert not replay.accepted and replay.replayed


def test_facts_of_a_refused_decision_are_not_written(session: Session, cfg: ProcessConfig) -> None:
    """The code proves who typed them: a wrong code writes no fact."""
    project, email = _at_stage(session, cfg, 3)
    assert project.id is not None
    factories.stage_work(session, cfg, project.id, 3)
    answer, shown = _answer(session, cfg, project, 3, "k1", email, activite="Tri de textiles")
    answer["code"] = "ABCDE-23456"
    result = _apply_answer(session, cfg, project.id, 3, "k1", answer, TODAY, factories.SECRET, shown)
    assert not result.accepted and "code" in result.problems[0]
    assert project.activity is None and _changes(session, project.id) == []


def test_the_code_is_checked_before_the_facts(session: Session, cfg: ProcessConfig) -> None:
    """Someone without the approver's code learns nothing about the facts: the refusal is the code's."""
    project, email = _at_stage(session, cfg, 3)
    assert project.id is not None
    factories.stage_work(session, cfg, project.id, 3)
    answer, shown = _answer(session, cfg, project, 3, "k1", email, postes_etp="huit")
    answer["code"] = "ABCDE-23456"
    result = _apply_answer(session, cfg, project.id, 3, "k1", answer, TODAY, factories.SECRET, shown)
    assert not result.accepted and len(result.problems) == 1
    assert "code" in result.problems[0] and "huit" not in result.problems[0]
    row = session.exec(select(TransitionLog).where(TransitionLog.idempotency_key == "k1")).one()
    assert row.transition == "refus_code"


def test_stage_4_form_saves_posts_periods_and_renewal(session: Session, cfg: ProcessConfig) -> None:
    project, email = _at_stage(session, cfg, 4)
    assert project.id is not None
    shown = shown_values(session, cfg, project, 4)
    assert shown["reconduction_tacite"] == "oui" and shown["postes"] == []  # the contract's default
    schema = prefilled(form_for(4, cfg), shown).model_json_schema()["properties"]["reconduction_tacite"]
    assert schema["enum"] == [UNCHANGED, "oui", "non"] and schema["default"] == "oui"
    post = {
        "intitule": "Agent de tri",
        "code_rome": "H3302",
        "heures_hebdomadaires": "30",
        "horaires": "",
        "missions": "Trier les textiles",
        "risques": "aucun",
    }
    refused = _apply(
        session,
        cfg,
        project,
        4,
        "k1",
        email,
        postes=[{**post, "code_rome": "tri"}],
        convention_debut="2028-01-10",
    )
    assert refused.problems == [
        "champ « Postes de travail », ligne 1, « Code ROME (ex. H3302) » : "
        "code ROME attendu sous la forme H3302, lu « tri »"
    ]
    result = _apply(
        session,
        cfg,
        project,
        4,
        "k2",
        email,
        postes=[post],
        plan_accompagnement="Entretien mensuel avec la CIP",
        convention_debut="2028-01-10",
        convention_fin="2031-01-09",
        reconduction_tacite="non",
        modalites_remboursement="Facture mensuelle",
    )
    assert result.accepted, result.problems
    session.refresh(project)
    assert project.posts == [{k: v for k, v in post.items() if v}]
    assert (project.convention_start, project.convention_end) == (date(2028, 1, 10), date(2031, 1, 9))
    assert project.implantation_tacit_renewal is False and project.reimbursement_terms == "Facture mensuelle"
    assert shown_values(session, cfg, project, 4)["reconduction_tacite"] == "non"
    # A convention longer than the law allows is refused naming the field, against the recorded start.
    too_long = _apply(session, cfg, project, 4, "k3", email, convention_fin="2035-01-09")
    assert not too_long.accepted
    assert too_long.problems[0].startswith("champ « Fin de la convention IAE » : ")


def test_stages_without_facts_show_none(session: Session, cfg: ProcessConfig) -> None:
    project, _email = _at_stage(session, cfg, 1)
    assert shown_values(session, cfg, project, 2) == {} and shown_values(session, cfg, project, 6) == {}
