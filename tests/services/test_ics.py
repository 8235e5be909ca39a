"""Calendars parsed back with icalendar: stable UIDs, SEQUENCE growing when a date moves, the clock's stop."""

from datetime import date

import factories
import pytest
from factories import decide
from icalendar import Calendar
from sqlmodel import Session

from implantation.config.schema import ProcessConfig
from implantation.db.models import ImplantationProject
from implantation.enums import Decision
from implantation.services.decisions import DecisionRequest
from implantation.services.errors import DomainError
from implantation.services.ics import person_calendar, project_calendar, stage_uid
from implantation.services.projects import record_copil


def _events(content: bytes) -> dict[str, dict]:
    calendar = Calendar.from_ical(content)
    return {
        str(event["UID"]): {
            "start": event.decoded("DTSTART"),
            "sequence": int(event["SEQUENCE"]),
            "summary": str(event["SUMMARY"]),
            "status": str(event["STATUS"]),
            "description": str(event["DESCRIPTION"]),
        }
        for event in calendar.walk("VEVENT")
    }


def _decide(
    session: Session,
    cfg: ProcessConfig,
    project: ImplantationProject,
    lead_id: int,
    decision: Decision,
    day: date,
) -> None:
    assert project.id is not None
    outcome = decide(
        session,
        cfg,
        project.id,
        DecisionRequest(
            stage=1, decision=decision, approver_id=lead_id, reason="Plan des locaux attendu de l'EP"
        ),
        day,
    )
    assert outcome.accepted, outcome.problems
    session.commit()


def test_stage_due_dates_and_meetings_with_stable_uids(session: Session, cfg: ProcessConfig) -> None:
    project, lead = factories.project(session, cfg, started_on=date(2026, 10, 1))
    assert project.id is not None and lead.id is not None
    planned = record_copil(session, cfg, project.id, 1, date(2026, 11, 5), None, None, planned=True)
    session.commit()
    first = _events(project_calendar(session, cfg, project, date(2026, 10, 15)))
    session.commit()
    stage1 = stage_uid(project.reference, 1)
    assert stage1 == "imp-2026-0001-etape-1@siae-penitentiaire"
    assert len(first) == 7  # six stage due dates (five projected) and the planned COPIL
    assert first[stage1]["start"] == date(2027, 1, 4)  # 1 January is a holiday
    assert first[stage1]["sequence"] == 0 and first[stage1]["status"] == "CONFIRMED"
    assert first[stage_uid(project.reference, 2)]["status"] == "TENTATIVE"
    assert "(prévision)" in first[stage_uid(project.reference, 2)]["summary"]
    copil_uid = f"imp-2026-0001-reunion-{planned.id}@siae-penitentiaire"
    assert first[copil_uid]["summary"] == "IMP-2026-0001 – COPIL de l'étape 1 (prévu)"
    assert first[copil_uid]["status"] == "TENTATIVE"

    # Nothing moved: the same sequences.
    again = _events(project_calendar(session, cfg, project, date(2026, 10, 16)))
    session.commit()
    assert {uid: e["sequence"] for uid, e in again.items()} == {uid: 0 for uid in first}

    # The planned COPIL is held two days later: same event, higher SEQUENCE.
    held = record_copil(session, cfg, project.id, 1, date(2026, 11, 7), "DISP, EP, SPIP", "Locaux retenus")
    session.commit()
    assert held.id == planned.id
    # The clock stops for ten working days: the due dates move, same UIDs, higher SEQUENCE.
    _decide(session, cfg, project, lead.id, Decision.SUSPEND, date(2026, 11, 16))
    suspended = _events(project_calendar(session, cfg, project, date(2026, 11, 20)))
    session.commit()
    assert suspended[stage1]["summary"].endswith("– suspendue")
    assert "Horloge arrêtée depuis le 16/11/2026" in suspended[stage1]["description"]
    assert suspended[stage1]["sequence"] == 1
    _decide(session, cfg, project, lead.id, Decision.RESUME, date(2026, 11, 30))
    moved = _events(project_calendar(session, cfg, project, date(2026, 12, 1)))
    session.commit()
    assert set(moved) == set(first)
    assert moved[stage1]["start"] == date(2027, 1, 18)  # 4 January + 10 working days
    assert moved[stage1]["sequence"] == 2
    assert moved[copil_uid]["start"] == date(2026, 11, 7) and moved[copil_uid]["sequence"] == 1
    assert moved[copil_uid]["status"] == "CONFIRMED" and "(tenu)" in moved[copil_uid]["summary"]
    later = stage_uid(project.reference, 6)
    assert moved[later]["sequence"] > first[later]["sequence"]


def test_person_calendar(session: Session, cfg: ProcessConfig) -> None:
    _project, lead = factories.project(session, cfg, started_on=date(2026, 10, 1))
    other = factories.establishment(session, cfg, code="MA-LYON", departement="69", ville="Corbas")
    stranger = factories.person(session, cfg, factories.Role.DISP, "PARIS", email="paris@example.org")
    assert other.id is not None and stranger.id is not None
    spip = factories.person(session, cfg, factories.Role.SPIP, "38")
    session.commit()
    content, count = person_calendar(session, cfg, spip.email.upper(), date(2026, 10, 15))
    assert count == 1 and len(_events(content)) == 6
    content, count = person_calendar(session, cfg, lead.email, date(2026, 10, 15))
    assert count == 1
    content, count = person_calendar(session, cfg, stranger.email, date(2026, 10, 15))
    assert count == 0 and _events(content) == {}
    with pytest.raises(DomainError) as caught:
        person_calendar(session, cfg, "personne@nulle.part", date(2026, 10, 15))
    assert caught.value.field == "personne"


def test_stage_opening_mail_carries_the_stage_calendar(
    session: Session, cfg: ProcessConfig, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    from email import message_from_bytes, policy

    from implantation.notifications.mailer import build_message
    from implantation.services.ics import stage_attachment
    from implantation.settings import Settings

    project, _lead = factories.project(session, cfg, started_on=date(2026, 10, 1))
    attachment = stage_attachment(session, cfg, project, 1, date(2026, 10, 1))
    session.commit()
    assert attachment.filename == "etape-1_IMP-2026-0001.ics" and attachment.mimetype == "text/calendar"
    message = build_message(
        Settings(data_dir=tmp_path),
        dedup_key="ouverture:1:1:1",
        recipients=["pilote@example.org"],
        subject="Ouverture",
        body="Bonjour",
        attachments=[attachment],
    )
    parsed = message_from_bytes(message.as_bytes(), policy=policy.default)
    part = next(parsed.iter_attachments())  # type: ignore[attr-defined]
    assert part.get_content_type() == "text/calendar"
    events = _events(part.get_payload(decode=True))
    assert list(events) == [stage_uid(project.reference, 1)]
    assert events[stage_uid(project.reference, 1)]["start"] == date(2027, 1, 4)
