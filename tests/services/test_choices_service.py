"""Choices by name: the lists shown in the forms, and every way a person may name a row back."""

from datetime import date

import factories
import pytest
from sqlmodel import Session

from implantation.config.schema import ProcessConfig
from implantation.enums import Role
from implantation.services import choices, workflow
from implantation.services.errors import DomainError


def test_lists_hold_staff_and_structures_by_name(session: Session, cfg: ProcessConfig) -> None:
    site = factories.establishment(session, cfg)
    siae = factories.siae(session, cfg)
    lead = factories.person(
        session, cfg, Role.DISP, "LYON", nom="Claire Martin", email="claire.martin@example.org"
    )
    factories.person(session, cfg, Role.DREETS, "84", email="dreets@example.org")
    assert choices.establishment_choices(session) == [f"{site.code} — {site.name}"]
    assert choices.lead_choices(session) == ["claire.martin@example.org — Claire Martin, DISP LYON"]
    assert choices.siae_choices(session) == [f"{siae.siret} — {siae.name} (ACI)"]
    assert lead.id is not None


def test_a_row_is_found_by_label_key_or_id(session: Session, cfg: ProcessConfig) -> None:
    site = factories.establishment(session, cfg)
    siae = factories.siae(session, cfg)
    lead = factories.person(session, cfg, Role.DISP, "LYON", email="Claire.Martin@example.org")
    for value in (choices.establishment_label(site), site.code, site.code.lower(), str(site.id), site.id):
        assert choices.establishment(session, value).id == site.id  # type: ignore[arg-type]
    for value in (choices.lead_label(lead), "claire.martin@example.org", str(lead.id)):
        assert choices.person(session, value, "chef").id == lead.id
    spaced = f"{siae.siret[:3]} {siae.siret[3:6]} {siae.siret[6:9]} {siae.siret[9:]}"
    for value in (choices.siae_label(siae), siae.siret, spaced, str(siae.id)):
        assert choices.siae(session, value).id == siae.id
    # A label shown before a rename still finds its row: the key comes first.
    assert choices.establishment(session, f"{site.code} — Ancien nom").id == site.id


def test_homonymous_addresses_pick_the_role_asked(session: Session, cfg: ProcessConfig) -> None:
    factories.person(session, cfg, Role.SPIP, "38", email="shared@example.org")
    disp = factories.person(session, cfg, Role.DISP, "LYON", email="shared@example.org")
    assert choices.person(session, "shared@example.org", "chef", Role.DISP).id == disp.id


@pytest.mark.parametrize(
    ("kind", "value", "message"),
    [
        ("establishment", "CP-INCONNU", "Champ « etablissement » : établissement introuvable « CP-INCONNU »"),
        ("person", "personne@nulle.part", "Champ « chef » : personne introuvable « personne@nulle.part »"),
        ("siae", "12345678901234", "Champ « siae » : SIAE introuvable « 12345678901234 »"),
    ],
)
def test_unknown_choices_are_refused_in_french(session: Session, kind: str, value: str, message: str) -> None:
    finder = {
        "establishment": lambda: choices.establishment(session, value),
        "person": lambda: choices.person(session, value, "chef"),
        "siae": lambda: choices.siae(session, value),
    }[kind]
    with pytest.raises(DomainError) as caught:
        finder()
    assert str(caught.value).startswith(message)


def test_the_lead_must_belong_to_the_establishments_disp(session: Session, cfg: ProcessConfig) -> None:
    site = factories.establishment(session, cfg)  # Isère: DISP de Lyon
    marseille = factories.person(session, cfg, Role.DISP, "MARSEILLE", email="disp13@example.org")
    assert site.id is not None and marseille.id is not None
    with pytest.raises(DomainError) as caught:
        workflow.create_project(session, cfg, site.id, marseille.id, date(2026, 12, 1), workflow.SYSTEM)
    assert str(caught.value) == (
        f"Le chef de projet doit appartenir à la DISP de l'établissement (LYON) ; {marseille.full_name} relève "
        "de la DISP MARSEILLE."
    )
