"""Who receives the mails of a stage: the roles come from ``etapes.toml``, the people from the database.

A role is matched to people the same way an approver is checked (``expected_territory``): a DISP
person must cover the establishment's DISP, a DREETS person its région, EP/SPIP/DDETS/préfet people
its département, and SIAE people must belong to the project's selected SIAE. Roles the territory
table does not place (ULE, PSY PEP, France Travail, mission locale, Région, JAP, réseaux IAE) are
matched to people whose territory is any of the project's codes (département, région, DISP).
"""

from collections.abc import Iterable

from sqlmodel import Session, col, or_, select

from implantation.config.schema import ProcessConfig
from implantation.db.models import Establishment, ImplantationProject, Person, Siae
from implantation.enums import Role
from implantation.territory import expected_territory


def _territory_codes(
    session: Session, cfg: ProcessConfig, project: ImplantationProject
) -> tuple[str, set[str]]:
    establishment = session.get(Establishment, project.establishment_id)
    if establishment is None:
        raise ValueError(f"établissement introuvable pour le projet {project.reference}")
    departement = establishment.departement
    dep = cfg.territory.departement.get(departement)
    codes = {departement} | ({dep.region, dep.disp} if dep else set())
    return departement, codes


def persons_for_role(
    session: Session, cfg: ProcessConfig, project: ImplantationProject, role: Role
) -> list[Person]:
    """People holding ``role`` for this project, ordered by id for stable mails and tests."""
    return _holders(session, cfg, project, [role])


def _unique(people: Iterable[Person | None]) -> list[Person]:
    seen: dict[int | None, Person] = {}
    for person in people:
        if person is not None and person.id not in seen:
            seen[person.id] = person
    return list(seen.values())


def _lead(session: Session, project: ImplantationProject) -> Person | None:
    return session.get(Person, project.lead_id)


def _holders(
    session: Session, cfg: ProcessConfig, project: ImplantationProject, roles: Iterable[Role]
) -> list[Person]:
    """Everyone holding one of the roles for the project's territory, in the roles' order, then by id.

    One query for all the roles, then each role's rule applied to its rows: a stage's mails ask for
    up to eleven roles, several times per transition; under the national load (py-spy, 40 projects)
    one query per role took 4.8 % of the runs' samples, one query for all 1.9 %.
    """
    wanted = list(dict.fromkeys(roles))
    territorial = [role for role in wanted if role != Role.SIAE]
    rules: dict[Role, set[str]] = {}
    if territorial:
        departement, codes = _territory_codes(session, cfg, project)
        for role in territorial:
            expected = expected_territory(role, departement, cfg.territory)
            rules[role] = {expected} if expected is not None else codes
    siae_wanted = Role.SIAE in wanted and project.siae_id is not None
    if not rules and not siae_wanted:
        return []
    conditions = []
    if rules:
        conditions.append(
            col(Person.role).in_(list(rules))
            & col(Person.territory).in_(sorted(set().union(*rules.values())))
        )
    if siae_wanted:
        conditions.append((col(Person.role) == Role.SIAE) & (col(Person.siae_id) == project.siae_id))
    rows = list(session.exec(select(Person).where(or_(*conditions)).order_by(col(Person.id))))
    by_role: dict[Role, list[Person]] = {role: [] for role in wanted}
    for person in rows:
        if person.role == Role.SIAE or person.territory in rules[person.role]:
            by_role[person.role].append(person)
    return [person for role in wanted for person in by_role[role]]


def pilot_persons(
    session: Session, cfg: ProcessConfig, project: ImplantationProject, stage: int
) -> list[Person]:
    return _unique(_holders(session, cfg, project, cfg.stage(stage).pilotes))


def stage_recipients(
    session: Session, cfg: ProcessConfig, project: ImplantationProject, stage: int
) -> list[Person]:
    """Pilots and participants of the stage, then the DISP project lead."""
    roles = [*cfg.stage(stage).pilotes, *cfg.stage(stage).participants]
    return _unique([*_holders(session, cfg, project, roles), _lead(session, project)])


def decider_persons(
    session: Session, cfg: ProcessConfig, project: ImplantationProject, stage: int
) -> list[Person]:
    """The people who may decide at the stage's gate (its decisions' roles), asked by e-mail to do so."""
    roles = [role for decision in cfg.stage(stage).decisions for role in decision.roles]
    return _unique(_holders(session, cfg, project, roles))


def siae_addresses(session: Session, project: ImplantationProject) -> list[str]:
    """The selected SIAE's own address, then its staff's: the drafts are theirs to complete."""
    if project.siae_id is None:
        return []
    siae = session.get(Siae, project.siae_id)
    staff = session.exec(select(Person).where(Person.siae_id == project.siae_id).order_by(col(Person.id)))
    return [*([siae.email] if siae and siae.email else []), *(p.email for p in staff)]


def escalation_recipients(
    session: Session, cfg: ProcessConfig, project: ImplantationProject, stage: int
) -> list[Person]:
    """The DISP project lead and the direct managers of the stage's pilots."""
    managers = [
        session.get(Person, pilot.manager_id)
        for pilot in pilot_persons(session, cfg, project, stage)
        if pilot.manager_id is not None
    ]
    return _unique([_lead(session, project), *managers])


def addresses(people: Iterable[Person]) -> list[str]:
    return [p.email for p in people]
