"""Choices offered by name in the forms: establishments, DISP project leads, SIAEs.

A DISP lead does not know database ids. The forms show lists of labels instead, built here from the
referential, and every place that receives a choice (run form, gate form, command line) gives it back
to :func:`establishment`, :func:`person` or :func:`siae`, which also accept the id, the code, the
e-mail or the SIRET. Lists hold staff and structures only, never a person detained.

A label starts with the key that identifies its row (code, e-mail, SIRET) followed by `` — ``, so a
label that was shown before a rename still finds its row.
"""

from sqlmodel import Session, col, func, select

from implantation.db.models import Establishment, Person, Siae
from implantation.enums import Role
from implantation.services.errors import DomainError

SEPARATOR = " — "


def establishment_label(row: Establishment) -> str:
    return f"{row.code}{SEPARATOR}{row.name}"


def lead_label(row: Person) -> str:
    return f"{row.email}{SEPARATOR}{row.full_name}, DISP {row.territory}"


def siae_label(row: Siae) -> str:
    return f"{row.siret}{SEPARATOR}{row.name} ({row.kind.value})"


def establishment_choices(session: Session) -> list[str]:
    return [
        establishment_label(r) for r in session.exec(select(Establishment).order_by(col(Establishment.code)))
    ]


def lead_choices(session: Session) -> list[str]:
    """The people who may lead a project: DISP staff (their interregion is checked at creation)."""
    query = select(Person).where(Person.role == Role.DISP).order_by(col(Person.territory), col(Person.email))
    return [lead_label(r) for r in session.exec(query)]


def siae_choices(session: Session) -> list[str]:
    return [siae_label(r) for r in session.exec(select(Siae).order_by(col(Siae.name), col(Siae.siret)))]


def _key(value: str | int) -> str:
    return str(value).split(SEPARATOR, 1)[0].strip()


def establishment(session: Session, value: str | int, field: str = "etablissement") -> Establishment:
    """By id, code or label."""
    key = _key(value)
    row = session.get(Establishment, int(key)) if key.isdigit() else None
    if row is None:
        query = select(Establishment).where(func.upper(Establishment.code) == key.upper())
        row = session.exec(query).one_or_none()
    if row is None:
        raise DomainError(
            f"Champ « {field} » : établissement introuvable « {value} » (code, libellé de la liste ou "
            "identifiant attendu).",
            field=field,
        )
    return row


def person(session: Session, value: str | int, field: str, role: Role | None = None) -> Person:
    """By id, e-mail or label; among homonymous addresses, the one holding ``role``."""
    key = _key(value)
    rows: list[Person] = []
    if key.isdigit():
        found = session.get(Person, int(key))
        rows = [found] if found is not None else []
    else:
        query = select(Person).where(func.lower(Person.email) == key.lower()).order_by(col(Person.id))
        rows = list(session.exec(query))
    rows.sort(key=lambda r: r.role != role)
    if not rows:
        raise DomainError(
            f"Champ « {field} » : personne introuvable « {value} » (adresse électronique, libellé de la "
            "liste ou identifiant attendu).",
            field=field,
        )
    return rows[0]


def siae(session: Session, value: str | int, field: str = "siae") -> Siae:
    """By id, SIRET (spaces allowed) or label."""
    key = _key(value).replace(" ", "")
    row = None
    if len(key) == 14 and key.isdigit():
        row = session.exec(select(Siae).where(Siae.siret == key)).one_or_none()
    elif key.isdigit():
        row = session.get(Siae, int(key))
    if row is None:
        raise DomainError(
            f"Champ « {field} » : SIAE introuvable « {value} » (SIRET, libellé de la liste ou identifiant "
            "attendu).",
            field=field,
        )
    return row
