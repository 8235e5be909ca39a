"""Test data built through the same services as the application, with sensible defaults."""

from datetime import date
from typing import Any

from sqlmodel import Session

from implantation.config.schema import ProcessConfig
from implantation.db.models import Establishment, ImplantationProject, Person, Siae
from implantation.enums import Role
from implantation.services import gate_codes, workflow
from implantation.services.referential import ESTABLISHMENTS, PERSONS, SIAES, add

# Key of the one-time decision codes in the tests that call the services directly.
SECRET = b"cle-des-tests-de-service"

# Fictitious SIRETs: valid Luhn keys, SIREN starting with 000 so that they designate no real structure.
SIRET_A = "00000001800010"
SIRET_B = "00000002600013"
SIRET_C = "00000003400017"


def establishment(session: Session, cfg: ProcessConfig, **values: str | None) -> Establishment:
    raw: dict[str, str | None] = {
        "code": "CP-GRENOBLE-VARCES",
        "nom": "Centre pénitentiaire de Grenoble-Varces",
        "type": "CP",
        "departement": "38",
        "ville": "Varces-Allières-et-Risset",
    }
    raw.update(values)
    row = add(session, cfg, ESTABLISHMENTS, raw)
    assert isinstance(row, Establishment)
    return row


def siae(session: Session, cfg: ProcessConfig, **values: str | None) -> Siae:
    raw: dict[str, str | None] = {
        "siret": SIRET_A,
        "nom": "La Remise",
        "type": "ACI",
        "adresse": "1 rue de l'Exemple",
        "code_postal": "38000",
        "ville": "Grenoble",
    }
    raw.update(values)
    row = add(session, cfg, SIAES, raw)
    assert isinstance(row, Siae)
    return row


def person(session: Session, cfg: ProcessConfig, role: Role, territory: str, **values: str | None) -> Person:
    raw: dict[str, str | None] = {
        "nom": f"{role.value.capitalize()} Exemple",
        "email": f"{role.value}.{territory.lower()}@example.org",
        "organisation": f"{role.value.upper()} {territory}",
        "role": role.value,
        "territoire": territory,
    }
    raw.update(values)
    row = add(session, cfg, PERSONS, raw)
    assert isinstance(row, Person)
    return row


def project(
    session: Session,
    cfg: ProcessConfig,
    started_on: date = date(2026, 10, 1),
    **establishment_values: Any,
) -> tuple[ImplantationProject, Person]:
    """A project at stage 1 in Grenoble-Varces (Isère, DISP de Lyon) and its DISP lead."""
    site = establishment(session, cfg, **establishment_values)
    lead = person(session, cfg, Role.DISP, "LYON")
    assert site.id is not None and lead.id is not None
    created = workflow.create_project(session, cfg, site.id, lead.id, started_on, workflow.Actor.of(lead))
    return created, lead


def decide(
    session: Session,
    cfg: ProcessConfig,
    project_id: int,
    request: workflow.DecisionRequest,
    today: date,
) -> workflow.DecisionOutcome:
    """``workflow.decide`` answered, unless the request says otherwise, with the code the approver received."""
    if request.code is None:
        request.code = gate_codes.current_code(
            session, SECRET, project_id, request.stage, request.approver_id, request.key
        )
    return workflow.decide(session, cfg, project_id, request, today, secret=SECRET)
