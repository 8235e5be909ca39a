"""Gate forms are built from ``etapes.toml``: a checklist item added there is asked, and required, at once."""

import shutil
from datetime import date
from pathlib import Path

import factories
import pytest
from factories import decide
from sqlmodel import Session

from flows.gates import GateInput, form_for
from implantation.config.loader import load_process_config
from implantation.config.schema import DecisionKind, ProcessConfig
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
    common = list(_properties(form_for(1, cfg)))
    assert {"approbateur", "code", "decision", "motif", "etape_renvoi"} <= set(common)
    for plain in (3, 4, 5):
        assert list(_properties(form_for(plain, cfg))) == common


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
