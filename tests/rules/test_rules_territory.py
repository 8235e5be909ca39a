"""Which territory an approver must hold, per role, for an establishment in a given département."""

import pytest

from implantation.config.schema import ProcessConfig
from implantation.enums import Role
from implantation.territory import expected_territory


@pytest.mark.parametrize(
    ("role", "departement", "expected"),
    [
        (Role.DISP, "57", "STRASBOURG"),
        (Role.DISP, "75", "PARIS"),
        (Role.DISP, "974", "MOM"),
        (Role.DISP, "2A", "MARSEILLE"),
        (Role.DREETS, "57", "44"),
        (Role.DREETS, "38", "84"),
        (Role.DREETS, "974", "04"),
        (Role.DDETS, "57", "57"),
        (Role.EP, "38", "38"),
        (Role.SPIP, "2B", "2B"),
        (Role.PREFET, "972", "972"),
    ],
)
def test_territorial_roles(cfg: ProcessConfig, role: Role, departement: str, expected: str) -> None:
    assert expected_territory(role, departement, cfg.territory) == expected


@pytest.mark.parametrize(
    "role",
    [
        Role.SIAE,
        Role.ATIGIP,
        Role.DGEFP,
        Role.ULE,
        Role.PSY_PEP,
        Role.FRANCE_TRAVAIL,
        Role.MISSION_LOCALE,
        Role.RESEAU_IAE,
        Role.REGION,
        Role.JAP,
        Role.OPERATEUR,
    ],
)
def test_non_territorial_roles(cfg: ProcessConfig, role: Role) -> None:
    assert expected_territory(role, "57", cfg.territory) is None


@pytest.mark.parametrize("departement", ["20", "99", "975", ""])
def test_unknown_departement(cfg: ProcessConfig, departement: str) -> None:
    with pytest.raises(ValueError, match=f"^département inconnu : « {departement} »$"):
        expected_territory(Role.EP, departement, cfg.territory)
