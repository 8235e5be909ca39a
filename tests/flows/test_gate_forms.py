"""Gate forms are built from ``etapes.toml``: a checklist item added there is asked, and required, at once."""

import shutil
from datetime import date
from pathlib import Path

import factories
import pytest
from factories import decide
from sqlmodel import Session

from flows.gates import GateInput, carried, form_for, prefilled
from implantation.config.loader import load_process_config
from implantation.config.schema import DecisionKind, ProcessConfig
from implantation.dossier import Etape1, Etape3, Etape4
from implantation.enums import Decision, Role
from implantation.services.workflow import open_stage
from implantation.settings import PROJECT_ROOT
from tasks.persist import _request

NEW_ITEM = (
    '  { id = "formation_securite", titre = "formation du personnel de la SIAE aux règles de détention" },\n'
)


@pytest.fixture
def extended(tmp_path: Path) -> ProcessConfig:
    """The shipped configuration with one more launch-checklist item."""
    target = tmp_path / "config"
    shutil.copytree(PROJECT_ROOT / "config", target)
    path = target / "etapes.toml"
    text = path.read_text(encoding="utf-8")
    anchor = '  { id = "protocole_sortie", titre = "protocole de préparation à la sortie (lien dedans-dehors)" },\n'
    assert anchor in text
    path.write_text(text.replace(anchor, anchor + NEW_ITEM), encoding="utf-8")
    return load_process_config(target)


def _properties(form: type[GateInput]) -> dict[str, dict[str, object]]:
    return form.with_initial_data(description="contexte").model_json_schema()["properties"]


def test_forms_follow_the_decisions_of_each_stage(cfg: ProcessConfig) -> None:
    selection, launch = cfg.stage_of(DecisionKind.SIAE_SELECTION), cfg.stage_of(DecisionKind.LAUNCH)
    assert (selection, launch) == (2, 6)
    assert {"siae_sourcees", "siae_retenue", "activite"} <= set(_properties(form_for(selection, cfg)))
    launch_fields = _properties(form_for(launch, cfg))
    assert list(launch_fields)[-4:] == [
        "date_lancement",
        "locaux_amenages",
        "interlocuteurs_nommes",
        "protocole_sortie",
    ]
    assert launch_fields["locaux_amenages"]["title"].startswith("Locaux aménagés (atelier")
    common = list(_properties(form_for(5, cfg)))
    assert common == ["approbateur", "code", "decision", "motif", "derogation", "etape_renvoi"]
    # The stages that produce facts ask them, under the keys of the dossier file, after the decision. Stage 1
    # has no earlier stage to send back to.
    assert list(_properties(form_for(1, cfg))) == [*common[:-1], *Etape1.model_fields]
    for stage, model in ((3, Etape3), (4, Etape4)):
        assert list(_properties(form_for(stage, cfg))) == common + list(model.model_fields)


def test_the_code_is_required_and_the_send_back_stage_is_a_list_of_earlier_stages(cfg: ProcessConfig) -> None:
    """No « Optional » on the code, which every decision needs; the send-back stage picked by number and
    title, with no « int / None » type switch to flip."""
    for stage in cfg.stage_numbers:
        schema = form_for(stage, cfg).with_initial_data(description="contexte").model_json_schema()
        assert schema["required"] == ["approbateur", "code", "decision"]
        assert schema["properties"]["code"]["type"] == "string"
    fields = _properties(form_for(4, cfg))
    back = fields["etape_renvoi"]
    assert "anyOf" not in back and back["type"] == "string" and back["default"] == "(aucune)"
    assert back["enum"] == [
        "(aucune)",
        "1 — Identifier l'établissement candidat à l'implantation d'une SIAE",
        "2 — Réaliser le sourcing des SIAE",
        "3 — Engager la réflexion sur l'étude de faisabilité et les moyens nécessaires",
    ]


def test_a_send_back_picked_in_the_list_names_its_stage(session: Session, cfg: ProcessConfig) -> None:
    """The label read back as the stage's number; an answer stored when it was a number replays alike."""
    factories.project(session, cfg)
    ddets = factories.person(session, cfg, Role.DDETS, "38")
    label = _properties(form_for(3, cfg))["etape_renvoi"]["enum"][2]  # type: ignore[index]
    for value in (label, 2, "2"):
        answer = {"approbateur": ddets.email, "code": "", "decision": "renvoyer", "etape_renvoi": value}
        assert _request(session, cfg, 3, "k", ddets.id, answer).target_stage == 2  # type: ignore[arg-type]
    none = {"approbateur": ddets.email, "code": "", "decision": "renvoyer", "etape_renvoi": "(aucune)"}
    assert _request(session, cfg, 3, "k", ddets.id, none).target_stage is None  # type: ignore[arg-type]


def test_the_override_is_offered_where_the_stage_requires_what_a_pilot_may_let_go(cfg: ProcessConfig) -> None:
    """Stage 1 requires COPILs and deliverables (``derogation_pilote``): its form offers the motivated
    override, naming who may use it."""
    field = _properties(form_for(1, cfg))["derogation"]
    assert field["title"] == "Dérogation motivée (pilote de l'étape)"
    assert "le nombre minimal de COPIL et les livrables" in str(field["description"])
    assert "DISP" in str(field["description"])
    assert cfg.overridable(1) == ["copil", "livrables"]


def test_facts_are_plain_boxes_lists_of_lines_and_drop_downs(cfg: ProcessConfig) -> None:
    """No « str / None » type switch to flip: an empty box means « unchanged »; lists are arrays of objects
    whose ``$ref`` the v1 UI draws as one sub-form per line with « Add item »."""
    stage3 = form_for(3, cfg).with_initial_data(description="contexte").model_json_schema()
    fields = stage3["properties"]
    for name in ("activite", "ateliers", "postes_etp", "date_demarrage_prevue"):
        assert (
            fields[name]["type"] == "string" and fields[name]["default"] == "" and "anyOf" not in fields[name]
        )
    assert fields["postes_etp"]["title"] == "Postes d'insertion (ETP)"
    assert fields["budget"]["type"] == "array" and fields["budget"]["items"] == {
        "$ref": "#/$defs/LigneBudgetSaisie"
    }
    line = stage3["$defs"]["LigneBudgetSaisie"]
    assert line["title"] == "Ligne du budget prévisionnel"
    assert line["properties"]["nature"]["enum"] == ["charge", "ressource"]
    assert line["properties"]["annee"] == {
        "default": 1,
        "enum": [1, 2],
        "title": "Année (1 ou 2)",
        "type": "integer",
    }
    posts = form_for(4, cfg).model_json_schema()
    assert posts["$defs"]["PosteSaisie"]["title"] == "Poste de travail"
    assert posts["properties"]["reconduction_tacite"]["enum"] == ["(inchangé)", "oui", "non"]


def test_a_prefilled_form_shows_the_values_and_keeps_its_french_titles(cfg: ProcessConfig) -> None:
    line = {"nature": "ressource", "libelle": "Vente", "montant": "40000", "annee": 2}
    form = prefilled(form_for(3, cfg), {"activite": "Tri de textiles", "budget": [line]})
    fields = form.with_initial_data(description="contexte").model_json_schema()["properties"]
    assert (
        fields["activite"]["default"] == "Tri de textiles"
        and fields["activite"]["title"] == "Activité retenue"
    )
    assert fields["budget"]["default"] == [line] and fields["budget"]["title"].startswith(
        "Budget prévisionnel"
    )
    answer = form(approbateur="a@b.fr", code="", decision="approuver").model_dump(mode="json")
    assert answer["budget"] == [line] and answer["activite"] == "Tri de textiles"
    # A refused answer's typed facts are shown again (``carried``), not the recorded ones.
    assert carried({**answer, "activite": "Tri"}, {"activite": "Tri de textiles", "budget": [line]}) == {
        "activite": "Tri"
    }


def test_help_texts_quote_the_rules_of_the_configuration(cfg: ProcessConfig) -> None:
    siae = _properties(form_for(2, cfg))["siae_retenue"]["description"]
    assert siae == "Une des SIAE sourcées ; elle doit être un ACI ou un EI."
    launch = _properties(form_for(6, cfg))["date_lancement"]["description"]
    assert (
        launch
        == "Hors congés d'été (juillet-août), vacances de Noël, week-ends et jours fériés du département."
    )


def test_the_same_class_answers_a_replay(cfg: ProcessConfig) -> None:
    assert form_for(6, cfg) is form_for(6, cfg)


def test_an_item_added_to_the_configuration_is_asked_and_required(
    session: Session, cfg: ProcessConfig, extended: ProcessConfig
) -> None:
    form = form_for(6, extended)
    field = _properties(form)["formation_securite"]
    assert field == {
        "default": False,
        "title": "Formation du personnel de la SIAE aux règles de détention",
        "type": "boolean",
    }

    project, _lead = factories.project(session, cfg)
    ep = factories.person(session, cfg, Role.EP, "38")
    assert project.id is not None and ep.id is not None
    open_stage(session, extended, project, 6, date(2027, 9, 1))  # as if stages 1 to 5 were behind
    factories.stage_work(session, extended, project.id, 6)  # its deliverables, required to approve
    answer = form(
        approbateur="x@example.org",
        code="",
        decision=Decision.APPROVE,
        date_lancement=date(2027, 9, 13),
        locaux_amenages=True,
        interlocuteurs_nommes=True,
        protocole_sortie=True,
    ).model_dump(mode="json")
    request = _request(session, extended, 6, "k-1", ep.id, answer)
    request.code = None  # the factory answers with the approver's own code
    refused = decide(session, extended, project.id, request, date(2027, 9, 1))
    assert not refused.accepted
    assert refused.problems == [
        "liste de lancement incomplète, non confirmé : formation du personnel de la SIAE aux règles de détention"
    ]
    answer["formation_securite"] = True
    again = _request(session, extended, 6, "k-2", ep.id, answer)
    again.code = None
    accepted = decide(session, extended, project.id, again, date(2027, 9, 1))
    assert accepted.accepted, accepted.problems
