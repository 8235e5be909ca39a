"""A small national fleet for the overview tests: four projects in four DISPs, at different points.

Built through the real services (creation, gate decisions, the clock that stops), never by writing
statuses directly.
"""

from dataclasses import dataclass
from datetime import date

import factories
from factories import decide
from sqlmodel import Session

from implantation.config.schema import ProcessConfig
from implantation.db.models import Person
from implantation.enums import Decision, Role
from implantation.services.decisions import DecisionRequest
from implantation.services.workflow import Actor, create_project

TODAY = date(2027, 1, 18)  # Monday


@dataclass(frozen=True)
class Fleet:
    grenoble: int  # Isère, DISP Lyon, stage 2 open, on time; decided by the DISP
    corbas: int  # Rhône, DISP Lyon, stage 1 open since 1 July 2026: late
    fresnes: int  # Val-de-Marne, DISP Paris, stage 1 suspended (waiting on the establishment)
    strasbourg: int  # Bas-Rhin, DISP Strasbourg, stage 1 open, on time


def _project(session: Session, cfg: ProcessConfig, started: date, code: str, dep: str, disp: str) -> int:
    site = factories.establishment(
        session, cfg, code=code, nom=f"Établissement {code}", departement=dep, ville="X"
    )
    lead = factories.person(session, cfg, Role.DISP, disp, email=f"chef.{code.lower()}@example.org")
    assert site.id is not None and lead.id is not None
    project = create_project(session, cfg, site.id, lead.id, started, Actor.of(lead))
    assert project.id is not None
    return project.id


def fleet(session: Session, cfg: ProcessConfig) -> Fleet:
    grenoble = _project(session, cfg, date(2026, 11, 2), "CP-GRENOBLE", "38", "LYON")
    corbas = _project(session, cfg, date(2026, 7, 1), "MA-CORBAS", "69", "LYON")
    fresnes = _project(session, cfg, date(2026, 12, 1), "CP-FRESNES", "94", "PARIS")
    strasbourg = _project(session, cfg, date(2026, 12, 14), "MA-STRASBOURG", "67", "STRASBOURG")
    lead = session.get(Person, 1)
    assert lead is not None and lead.id is not None
    approved = decide(
        session,
        cfg,
        grenoble,
        DecisionRequest(stage=1, decision=Decision.APPROVE, approver_id=lead.id, reason="Locaux confirmés"),
        date(2026, 12, 15),
    )
    assert approved.accepted, approved.problems
    paris_lead = factories.person(session, cfg, Role.DISP, "PARIS", email="disp.paris.2@example.org")
    assert paris_lead.id is not None
    suspended = decide(
        session,
        cfg,
        fresnes,
        DecisionRequest(
            stage=1,
            decision=Decision.SUSPEND,
            approver_id=paris_lead.id,
            reason="Plan des locaux attendu de l'établissement",
        ),
        date(2027, 1, 11),
    )
    assert suspended.accepted, suspended.problems
    session.commit()
    return Fleet(grenoble, corbas, fresnes, strasbourg)
