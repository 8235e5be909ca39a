"""Stage recipients come from etapes.toml roles matched to people of the project's territory."""

import pytest
from mailsink import World
from sqlalchemy import event
from sqlmodel import Session

from implantation.config.schema import ProcessConfig
from implantation.enums import Role
from implantation.notifications.recipients import (
    decider_persons,
    escalation_recipients,
    persons_for_role,
    pilot_persons,
    siae_addresses,
    stage_recipients,
)


@pytest.fixture
def db_url(fresh_url: str) -> str:
    """SQLite and PostgreSQL: the recipients' one query (role and territory lists) must match on both."""
    return fresh_url


def _names(people: list) -> set[str]:
    return {p.email.split("@")[0] for p in people}


def test_stage_one_reaches_the_disp_and_the_establishment_side(
    session: Session, cfg: ProcessConfig, world: World
) -> None:
    # Stage 1: DISP pilots; EP, SPIP, ULE, PSY PEP, DISP take part.
    people = stage_recipients(session, cfg, world.project(session), 1)
    assert _names(people) == {"dir_disp", "lead", "ep", "spip", "ule", "psy"}
    assert len(people) == len(_names(people))  # each person once


def test_siae_people_only_once_their_siae_is_selected(
    session: Session, cfg: ProcessConfig, world: World
) -> None:
    project = world.project(session)
    before = _names(stage_recipients(session, cfg, project, 3))
    assert before == {"ep", "spip", "ule", "psy", "dir_disp", "lead", "dreets", "ddets"}
    project.siae_id = world.siae_id
    session.add(project)
    session.flush()
    assert _names(stage_recipients(session, cfg, project, 3)) == before | {"siae"}
    assert _names(pilot_persons(session, cfg, project, 3)) == {"ep", "spip", "siae"}


def test_stage_two_reaches_the_labour_administration(
    session: Session, cfg: ProcessConfig, world: World
) -> None:
    people = _names(stage_recipients(session, cfg, world.project(session), 2))
    assert people == {"dreets", "ddets", "spip", "dir_disp", "lead", "ft", "ml"}


def test_escalation_reaches_the_lead_and_the_pilots_managers(
    session: Session, cfg: ProcessConfig, world: World
) -> None:
    project = world.project(session)
    assert _names(escalation_recipients(session, cfg, project, 3)) == {"lead", "chef_ep", "chef_spip"}
    # Stage 1 pilots are DISP Lyon people: the lead's manager is the interregional director.
    assert _names(escalation_recipients(session, cfg, project, 1)) == {"lead", "dir_disp"}


def test_approval_requests_go_to_the_roles_that_decide_at_the_gate(
    session: Session, cfg: ProcessConfig, world: World
) -> None:
    project = world.project(session)
    assert _names(decider_persons(session, cfg, project, 1)) == {"lead", "dir_disp"}
    assert _names(decider_persons(session, cfg, project, 5)) == {"dreets", "ddets"}


def test_drafts_go_to_the_selected_siae_and_its_staff_only(
    session: Session, cfg: ProcessConfig, world: World
) -> None:
    project = world.project(session)
    assert siae_addresses(session, project) == []
    project.siae_id = world.siae_id
    session.add(project)
    session.flush()
    assert [a.split("@")[0] for a in siae_addresses(session, project)] == ["siae"]


def test_recipients_come_in_the_roles_order_then_by_id_from_one_query(
    session: Session, cfg: ProcessConfig, world: World
) -> None:
    project = world.project(session)
    project.siae_id = world.siae_id
    session.add(project)
    session.flush()
    statements: list[str] = []
    connection = session.connection()

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(connection, "before_cursor_execute", count)
    try:
        # Stage 3: pilots EP, SPIP, SIAE; then ULE, PSY PEP, DISP, DREETS, DDETS; then the lead.
        people = stage_recipients(session, cfg, project, 3)
    finally:
        event.remove(connection, "before_cursor_execute", count)
    assert [p.email.split("@")[0] for p in people] == [
        "ep", "spip", "siae", "ule", "psy", "dir_disp", "lead", "dreets", "ddets",
    ]  # fmt: skip
    assert len([s for s in statements if "FROM person" in s]) == 1


def test_one_role_reaches_only_its_territory_or_its_siae(
    session: Session, cfg: ProcessConfig, world: World
) -> None:
    project = world.project(session)
    assert _names(persons_for_role(session, cfg, project, Role.DISP)) == {"dir_disp", "lead"}
    assert _names(persons_for_role(session, cfg, project, Role.ULE)) == {"ule"}
    assert persons_for_role(session, cfg, project, Role.SIAE) == []
    project.siae_id = world.other_siae_id
    assert _names(persons_for_role(session, cfg, project, Role.SIAE)) == {"other_siae"}
