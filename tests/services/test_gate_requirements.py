"""Gates that gate: COPILs and deliverables before any approval, signed current documents at stage 5."""

from datetime import date
from pathlib import Path
from typing import Any

import factories
import pytest
from factories import decide as _decide
from sqlmodel import Session, col, select

from implantation.config.schema import ProcessConfig
from implantation.db.models import ImplantationProject, TransitionLog
from implantation.documents.service import generate_pack
from implantation.enums import Decision, Role, StageStatus
from implantation.services.decisions import DecisionRequest
from implantation.services.dossier import complete, parse_dossier
from implantation.services.workflow import Actor, get_stage
from implantation.settings import Settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


def decide(*args: Any, **kwargs: Any) -> Any:
    """The gate as it stands: nothing recorded on the test's behalf."""
    return _decide(*args, record_work=False, **kwargs)


def _log(session: Session, project: ImplantationProject) -> list[TransitionLog]:
    return list(
        session.exec(
            select(TransitionLog)
            .where(TransitionLog.project_id == project.id)
            .order_by(col(TransitionLog.id))
        )
    )


def test_approval_waits_for_the_copils_and_deliverables_of_the_stage(
    session: Session, cfg: ProcessConfig
) -> None:
    project, lead = factories.project(session, cfg)
    assert project.id is not None and lead.id is not None
    refused = decide(
        session, cfg, project.id, DecisionRequest(1, Decision.APPROVE, lead.id), date(2026, 12, 10)
    )
    assert not refused.accepted
    assert refused.problems == [
        "COPIL de l'étape 1 : 0 enregistré(s) sur 2 au minimum (« siae projet copil 1 --etape 1 … »)",
        "livrable(s) de l'étape 1 non enregistré(s) : « Comptes rendus des COPIL (2 à 3) » (cr_copil), "
        "« Recensement des activités possibles » (recensement_activites), « Méthodologie de recherche d'une "
        "SIAE partenaire » (methodologie_recherche) (« siae projet livrable 1 --etape 1 --type … »)",
    ]
    factories.stage_work(session, cfg, project.id, 1)
    assert decide(
        session, cfg, project.id, DecisionRequest(1, Decision.APPROVE, lead.id), date(2026, 12, 10)
    ).accepted


def test_the_pilot_may_override_with_a_motive_logged(session: Session, cfg: ProcessConfig) -> None:
    project, lead = factories.project(session, cfg)
    spip = factories.person(session, cfg, Role.SPIP, "38")
    assert project.id is not None and lead.id is not None and spip.id is not None
    empty = DecisionRequest(1, Decision.APPROVE, lead.id, derogation="  ")
    assert len(decide(session, cfg, project.id, empty, date(2026, 12, 10)).problems) == 2
    not_pilot = DecisionRequest(1, Decision.APPROVE, spip.id, derogation="urgence")
    problems = decide(session, cfg, project.id, not_pilot, date(2026, 12, 10)).problems
    assert (
        "seul un pilote de l'étape 1 peut déroger (Direction interrégionale des services pénitentiaires (DISP))"
        in problems
    )
    motive = "Un seul COPIL : l'établissement et le SPIP étaient d'accord dès le premier"
    factories.stage_work(session, cfg, project.id, 1)
    useless = DecisionRequest(1, Decision.APPROVE, lead.id, derogation=motive)
    assert decide(session, cfg, project.id, useless, date(2026, 12, 10)).problems == [
        "dérogation inutile : rien ne manque qui puisse y donner lieu"
    ]


def test_an_override_names_what_was_missing(session: Session, cfg: ProcessConfig) -> None:
    project, lead = factories.project(session, cfg)
    assert project.id is not None and lead.id is not None
    request = DecisionRequest(1, Decision.APPROVE, lead.id, derogation="Projet d'initiative SIAE, déjà cadré")
    assert decide(session, cfg, project.id, request, date(2026, 12, 10)).accepted
    row = next(r for r in _log(session, project) if r.transition == "derogation")
    assert row.stage == 1 and row.actor_id == lead.id and row.accepted
    assert row.reason is not None and row.reason.startswith(
        "Projet d'initiative SIAE, déjà cadré — dérogation pour : COPIL"
    )


def test_stage_five_waits_for_current_signed_documents(
    session: Session, demo_cfg: ProcessConfig, settings: Settings
) -> None:
    cfg = demo_cfg  # documents and budgets dated 2027-2028: the demonstration amounts
    factories.siae(session, cfg, **factories.SIAE_IDENTITY)
    project, _lead = factories.project(session, cfg)
    dreets = factories.person(session, cfg, Role.DREETS, "84")
    pid = project.id
    assert pid is not None and dreets.id is not None
    for stage in (1, 2, 3, 4):
        factories.stage_work(session, cfg, pid, stage)
    factories.complete_for_documents(session, cfg, project, date(2027, 9, 13), operateurs=1)
    project.current_stage = 5

    record = get_stage(session, pid, 5)
    record.status = StageStatus.OPEN
    session.add_all([project, record])
    factories.stage_work(session, cfg, pid, 5)
    approve = DecisionRequest(5, Decision.APPROVE, dreets.id)
    assert decide(session, cfg, pid, approve, date(2027, 6, 15)).problems == [
        "DUI : jamais produit (« siae documents generer 1 »)",
        "Convention IAE : jamais produit (« siae documents generer 1 »)",
        "Contrat d'implantation : jamais produit (« siae documents generer 1 »)",
    ]
    generate_pack(session, pid, cfg, settings)
    problems = decide(session, cfg, pid, approve, date(2027, 6, 15)).problems
    how = (
        "« siae documents signer 1 {} --certificat … » ou dépôt du PDF signé (« siae documents deposer 1 … »)"
    )
    assert problems[0] == f"DUI (version 1) : SIAE : pas de signature ({how.format(1)})"
    assert problems[1:4] == [
        f"Convention IAE (version 1) : Préfet (ou DDETS pour lui) : pas de signature ({how.format(2)})",
        f"Convention IAE (version 1) : SIAE : pas de signature ({how.format(2)})",
        "Convention IAE (version 1) : Direction interrégionale des services pénitentiaires (DISP) : pas de "
        f"signature ({how.format(2)})",
    ]
    factories.signed_contract_documents(session, cfg, pid, settings, date(2027, 6, 14))
    # A fact changed after the signatures: the signed DUI no longer matches the recorded data.
    complete(session, cfg, project, parse_dossier({"activite": "Tri et réemploi de textiles"}), Actor("SIAE"))
    no_override = DecisionRequest(5, Decision.APPROVE, dreets.id, derogation="pressé")
    problems = decide(session, cfg, pid, no_override, date(2027, 6, 15)).problems
    assert "DUI (version 1) : ne correspond plus aux données enregistrées" in problems[1]
    assert problems[0] == "dérogation inutile : rien ne manque qui puisse y donner lieu"
    factories.signed_contract_documents(session, cfg, pid, settings, date(2027, 6, 14))
    assert decide(session, cfg, pid, approve, date(2027, 6, 15)).accepted
