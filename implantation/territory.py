"""Which territory a person must cover to act for a project, per role."""

from implantation.config.schema import TerritoryFile
from implantation.enums import Role


def expected_territory(role: Role, departement: str, territory: TerritoryFile) -> str | None:
    """The territory code a person of that role must hold for an establishment in that département.

    None means the role is not territorial (national bodies, SIAE staff checked by their SIAE).
    """
    dep = territory.departement.get(departement)
    if dep is None:
        raise ValueError(f"département inconnu : « {departement} »")
    if role == Role.DISP:
        return dep.disp
    if role == Role.DREETS:
        return dep.region
    if role in (Role.DDETS, Role.EP, Role.SPIP, Role.PREFET):
        return departement
    return None
