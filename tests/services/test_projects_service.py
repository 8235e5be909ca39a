"""Timeline, project list, COPIL and deliverable records."""

from datetime import date

import factories
import pytest
from sqlmodel import Session, select

from implantation.config.schema import ProcessConfig
from implantation.db.models import CopilMeeting, DeliverableRecord
from implantation.enums import Decision, Role, StageStatus
from implantation.services import workflow
from implantation.services.errors import DomainError
from implantation.services.projects import (
    find_project,
    list_projects,
    parse_date,
    record_copil,
    record_deliverable,
    timeline,
)


def test_timeline_projects_every_stage_and_explains_moved_due_dates(
    session: Session, cfg: ProcessConfig
) -> None:
    project, _ = factories.project(session, cfg, started_on=date(2026, 10, 1))
    rows = timeline(session, cfg, project, today=date(2026, 11, 23))
    assert [r.stage for r in rows] == [1, 2, 3, 4, 5, 6]
    first = rows[0]
    assert (first.status, first.projected, first.due_on) == (StageStatus.OPEN, False, date(2027, 1, 4))
    assert (first.moved_from, first.moved_because) == (date(2027, 1, 1), "Jour de l'an")
    assert all(r.projected for r in rows[1:])
    assert rows[1].opened_on == date(2027, 1, 4)
    assert rows[3].due_on == date(2027, 7, 5) and rows[3].moved_because == "dimanche"
    assert first.pilots == "DISP" and rows[2].pilots == "EP + SPIP + SIAE"


def test_alsace_moselle_holidays_move_due_dates_further(session: Session, cfg: ProcessConfig) -> None:
    """26 March 2027 is Good Friday: a holiday in the Bas-Rhin only, followed by Easter Monday."""
    isere, _ = factories.project(session, cfg, started_on=date(2026, 12, 26))
    bas_rhin_site = factories.establishment(session, cfg, code="CD-OERMINGEN", departement="67", type="CD")
    strasbourg = factories.person(session, cfg, Role.DISP, "STRASBOURG", email="disp.strasbourg@example.org")
    assert bas_rhin_site.id is not None and strasbourg.id is not None
    bas_rhin = workflow.create_project(
        session, cfg, bas_rhin_site.id, strasbourg.id, date(2026, 12, 26), workflow.SYSTEM
    )
    assert timeline(session, cfg, isere, date(2027, 1, 1))[0].due_on == date(2027, 3, 26)
    row = timeline(session, cfg, bas_rhin, date(2027, 1, 1))[0]
    assert row.due_on == date(2027, 3, 30)
    assert row.moved_from == date(2027, 3, 26) and row.moved_because == "Vendredi saint"


def test_lateness_counts_days_past_the_due_date(session: Session, cfg: ProcessConfig) -> None:
    project, lead = factories.project(session, cfg, started_on=date(2026, 10, 1))
    assert timeline(session, cfg, project, date(2027, 1, 4))[0].late_days == 0
    assert timeline(session, cfg, project, date(2027, 1, 14))[0].late_days == 10
    assert project.id is not None and lead.id is not None
    factories.stage_work(session, cfg, project.id, 1)
    workflow.decide(
        session, cfg, project.id, workflow.DecisionRequest(1, Decision.APPROVE, lead.id), date(2027, 1, 9)
    )
    rows = timeline(session, cfg, project, date(2027, 3, 1))
    assert rows[0].late_days == 5 and rows[0].closed_on == date(2027, 1, 9)
    listed = list_projects(session, cfg, date(2027, 3, 20))
    assert [(r.reference, r.stage, r.due_on, r.late_days) for r in listed] == [
        ("IMP-2026-0001", 2, date(2027, 3, 9), 11)
    ]


def test_list_filters_by_start_period_and_refuses_inverted_dates(
    session: Session, cfg: ProcessConfig
) -> None:
    factories.project(session, cfg, started_on=date(2026, 10, 1))
    today = date(2026, 11, 23)
    assert len(list_projects(session, cfg, today, date(2026, 9, 1), date(2026, 10, 1))) == 1
    assert list_projects(session, cfg, today, date(2026, 10, 2), None) == []
    with pytest.raises(DomainError) as inverted:
        list_projects(session, cfg, today, date(2027, 1, 1), date(2026, 1, 1))
    assert inverted.value.field == "au" and "Dates inversées" in str(inverted.value)


def test_find_project_by_reference_or_id(session: Session, cfg: ProcessConfig) -> None:
    project, _ = factories.project(session, cfg)
    assert find_project(session, "IMP-2026-0001") is project
    assert find_project(session, str(project.id)) is project
    with pytest.raises(DomainError, match="Projet introuvable"):
        find_project(session, "IMP-1999-0001")


def test_record_copil(session: Session, cfg: ProcessConfig) -> None:
    project, _ = factories.project(session, cfg, started_on=date(2026, 10, 1))
    assert project.id is not None
    meeting = record_copil(
        session,
        cfg,
        project.id,
        1,
        date(2026, 10, 20),
        "DISP, EP, SPIP & ULE <référents>",
        "Activités : {{ tri }}",
    )
    session.commit()
    stored = session.exec(select(CopilMeeting)).one()
    assert stored.id == meeting.id and stored.attendees == "DISP, EP, SPIP & ULE <référents>"
    assert stored.decisions == "Activités : {{ tri }}" and stored.kind == "COPIL"
    cases = [
        ({"held_on": date(2026, 9, 30)}, "date", "Dates inversées"),
        ({"stage": 7}, "etape", "numéro d'étape 7"),
        ({"kind": "AG"}, "type", "COPIL ou CT"),
        ({"attendees": " "}, "participants", "obligatoire"),
        ({"decisions": "x" * 10240}, "decisions", "10240 caractères"),
    ]
    for change, field, text in cases:
        values = {
            "stage": 1,
            "held_on": date(2026, 10, 20),
            "attendees": "DISP",
            "decisions": "ok",
            "kind": "COPIL",
        }
        values.update(change)
        with pytest.raises(DomainError) as caught:
            record_copil(session, cfg, project.id, **values)  # type: ignore[arg-type]
        assert caught.value.field == field and text in str(caught.value)


def test_record_deliverable_uses_the_configured_kinds(session: Session, cfg: ProcessConfig) -> None:
    project, lead = factories.project(session, cfg, started_on=date(2026, 10, 1))
    assert project.id is not None
    record_deliverable(session, cfg, project.id, 1, "recensement_activites", date(2026, 11, 2), "GED/123")
    session.commit()
    assert session.exec(select(DeliverableRecord.kind)).all() == ["recensement_activites"]
    with pytest.raises(DomainError, match="déjà enregistré"):
        record_deliverable(session, cfg, project.id, 1, "recensement_activites", date(2026, 11, 3))
    with pytest.raises(DomainError, match="inconnu pour l'étape 1"):
        record_deliverable(session, cfg, project.id, 1, "feuille_de_route", date(2026, 11, 3))
    workflow.abandon(session, project, "Fermeture", workflow.Actor.of(lead))
    with pytest.raises(DomainError, match="abandonné"):
        record_deliverable(session, cfg, project.id, 1, "methodologie_recherche", date(2026, 11, 3))


@pytest.mark.parametrize(
    ("raw", "expected"), [("2026-10-01", date(2026, 10, 1)), ("01/10/2026", date(2026, 10, 1))]
)
def test_parse_date_formats(raw: str, expected: date) -> None:
    assert parse_date(raw, "debut") == expected


@pytest.mark.parametrize("raw", ["2026-13-01", "31/02/2026", "demain", "1/2"])
def test_parse_date_refusals_name_the_field(raw: str) -> None:
    with pytest.raises(DomainError) as caught:
        parse_date(raw, "debut")
    assert caught.value.field == "debut" and "Champ « debut » : date invalide" in str(caught.value)
