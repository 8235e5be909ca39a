"""The markdown above a gate's form: what the project holds, what the guide expects, what is missing."""

from datetime import date

import factories
from sqlmodel import Session

from implantation.config.schema import ProcessConfig
from tasks.describe import gate_markdown

TODAY = date(2026, 10, 2)


def test_stage_one_shows_what_the_disp_confirms(session: Session, cfg: ProcessConfig) -> None:
    project, lead = factories.project(session, cfg, locaux="Atelier de 300 m², deux bureaux")
    text = gate_markdown(session, cfg, project, 1, [], [], TODAY)
    assert "- Établissement : Centre pénitentiaire de Grenoble-Varces (" in text
    assert "département 38" in text
    assert f"- Chef de projet : {lead.full_name} ({lead.organisation})" in text
    assert "- Locaux disponibles : Atelier de 300 m², deux bureaux" in text
    assert "Décision attendue : Confirmer l'établissement, le chef de projet et les locaux" in text
    assert "SIAE retenue" not in text and "La saisie précédente" not in text


def test_missing_premises_and_refusals_are_shown(session: Session, cfg: ProcessConfig) -> None:
    project, _lead = factories.project(session, cfg)
    text = gate_markdown(session, cfg, project, 1, ["approbateur inconnu"], [], TODAY)
    assert "- Locaux disponibles : **non renseignés**" in text
    assert "### ⚠ La saisie précédente n'a pas été retenue\n\n- approbateur inconnu" in text


def test_after_sourcing_the_selected_siae_and_activity_are_shown(
    session: Session, cfg: ProcessConfig
) -> None:
    project, _lead = factories.project(session, cfg)
    siae = factories.siae(session, cfg)
    # What stage 2's selection records (see services.workflow); the description only reads it.
    project.siae_id, project.activity = siae.id, "Tri de textiles"
    text = gate_markdown(session, cfg, project, 3, [], [], TODAY)
    assert "- SIAE retenue : La Remise (ACI) ; activité : Tri de textiles" in text
    assert "Décision attendue : Valider l'étude de faisabilité" in text


def test_a_suspended_stage_shows_the_stop_and_what_is_awaited(session: Session, cfg: ProcessConfig) -> None:
    from factories import decide

    from implantation.enums import Decision
    from implantation.services.decisions import DecisionRequest

    project, lead = factories.project(session, cfg)
    assert project.id is not None and lead.id is not None
    request = DecisionRequest(
        stage=1, decision=Decision.SUSPEND, approver_id=lead.id, reason="Plan des locaux attendu de l'EP"
    )
    assert decide(session, cfg, project.id, request, TODAY).accepted
    text = gate_markdown(session, cfg, project, 1, [], [], TODAY)
    assert "### ⏸ Étape suspendue depuis le 2 octobre 2026 : horloge arrêtée" in text
    assert "En attente : Plan des locaux attendu de l'EP" in text
    assert "`suspendre`" in text and "`reprendre`" in text


def test_stage_three_shows_the_budget_balance_and_stage_five_the_operateurs_by_id(
    session: Session, cfg: ProcessConfig
) -> None:
    factories.siae(session, cfg)
    project, _lead = factories.project(session, cfg)
    text = gate_markdown(session, cfg, project, 3, [], [], TODAY)
    assert (
        "### Budget prévisionnel : solde des années 1 et 2\n\n- Solde non calculable, il manque : la SIAE"
        in text
    )
    ids = factories.complete_for_documents(session, cfg, project, date(2027, 1, 11), operateurs=2)
    text = gate_markdown(session, cfg, project, 3, [], [], TODAY).replace("\u202f", " ").replace("\xa0", " ")
    # The sample dossier on the shipped amounts: the same figures as the DUI's (one computation).
    assert "- Année 1 (à partir du 11 janvier 2027) : charges 245 162,76 €, ressources 248 936,40 €" in text
    assert "- Année 2 (à partir du 11 janvier 2028) : charges" in text and "Attention" not in text
    text = gate_markdown(session, cfg, project, 5, [], [], TODAY)
    assert "- Affecté : 2" in text and f"- CEP à établir pour : {', '.join(sorted(ids))}" in text
    assert "Opérateur0" not in text and "TEST-00000" not in text


def test_a_stage_that_may_be_overridden_says_who_may_and_how(session: Session, cfg: ProcessConfig) -> None:
    project, _lead = factories.project(session, cfg)
    text = gate_markdown(session, cfg, project, 1, [], [], TODAY)
    assert (
        "Un pilote de l'étape (Direction interrégionale des services pénitentiaires (DISP)) peut approuver "
        "sans le nombre minimal de COPIL et les livrables par une "
        "dérogation motivée (champ « Dérogation motivée »), inscrite au journal avec ce qui manquait."
    ) in text


def test_the_convention_gate_warns_when_the_project_is_younger_than_the_guides_minimum(
    session: Session, cfg: ProcessConfig
) -> None:
    """The guide's 6 to 8 months from idea to contract: said at the gate that approves the contract."""
    project, _lead = factories.project(session, cfg)
    project.started_on = date(2026, 6, 1)
    early = gate_markdown(session, cfg, project, 5, [], [], TODAY)
    assert "Attention : 123 jours seulement entre le lancement du projet (01/06/2026)" in early
    assert "le guide recommande au moins 6 mois" in early
    later = gate_markdown(session, cfg, project, 5, [], [], date(2026, 12, 1))
    assert "Attention :" not in later
