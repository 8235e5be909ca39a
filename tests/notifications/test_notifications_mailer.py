"""send_once against a real SMTP server on loopback and a real SQLite database."""

import os
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from mailsink import MAIL_FROM, MailSink, World
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from implantation.config.schema import ProcessConfig
from implantation.db.models import NotificationRecord, Person
from implantation.enums import Role
from implantation.notifications.context import stage_opened_context
from implantation.notifications.mailer import Attachment, MailError, MailKind, message_id, send_once
from implantation.notifications.overview_mail import send_overview
from implantation.services.overview import overview
from implantation.settings import Settings


def _context(session: Session, cfg: ProcessConfig, world: World) -> dict[str, object]:
    return stage_opened_context(
        session, cfg, world.project(session), 1, lien="http://127.0.0.1:4200/runs/flow-run/x"
    )


def _send(
    session: Session,
    settings: Settings,
    cfg: ProcessConfig,
    world: World,
    key: str = "ouverture:1:1",
    attachments: list[Attachment] | None = None,
) -> NotificationRecord | None:
    return send_once(
        session,
        settings,
        project_id=world.project_id,
        stage=1,
        kind=MailKind.STAGE_OPENED,
        dedup_key=key,
        recipients=["lead@exemple.test", "ep@exemple.test"],
        context=_context(session, cfg, world),
        attachments=attachments or [],
    )


def test_sends_once_then_never_again_for_the_same_key(
    session: Session,
    engine: Engine,
    settings: Settings,
    cfg: ProcessConfig,
    world: World,
    mail_sink: MailSink,
) -> None:
    record = _send(session, settings, cfg, world)
    session.commit()
    assert record is not None and record.id is not None
    assert len(mail_sink.mails) == 1
    assert mail_sink.mails[0].rcpt_tos == ["lead@exemple.test", "ep@exemple.test"]
    assert mail_sink.mails[0].mail_from == MAIL_FROM

    assert _send(session, settings, cfg, world) is None
    with Session(engine) as other:  # a resumed run, with its own session
        assert _send(other, settings, cfg, world) is None
        other.commit()
    assert len(mail_sink.mails) == 1

    stored = session.exec(select(NotificationRecord)).all()
    assert [(r.dedup_key, r.kind, r.stage) for r in stored] == [("ouverture:1:1", "ouverture_etape", 1)]
    assert stored[0].recipients == "lead@exemple.test, ep@exemple.test"
    assert stored[0].subject == mail_sink.mails[0].subject

    assert _send(session, settings, cfg, world, key="ouverture:1:2") is not None
    assert len(mail_sink.mails) == 2


def test_french_subject_and_body_arrive_intact(
    session: Session, settings: Settings, cfg: ProcessConfig, world: World, mail_sink: MailSink
) -> None:
    record = _send(session, settings, cfg, world)
    assert record is not None
    mail = mail_sink.mails[0]
    assert mail.subject == (
        f"[SIAE en détention] {world.project(session).reference} – "
        "Ouverture de l'étape 1 – Identifier l'établissement candidat à l'implantation d'une SIAE"
    )
    assert record.subject == mail.subject
    body = mail.body
    assert "L'étape 1 du projet d'implantation d'une SIAE est ouverte depuis le 5 janvier 2026" in body
    assert (
        "Échéance de l'étape : 7 avril 2026." in body
    )  # 5 avril + 3 mois is Sunday, 6 avril is Easter Monday
    assert "Maison d'arrêt de Lyon-Corbas" in body
    assert "- Méthodologie de recherche d'une SIAE partenaire" in body
    assert "http://127.0.0.1:4200/runs/flow-run/x" in body
    part = mail.message.get_body(preferencelist=("plain",))
    assert part is not None and part.get_content_charset() == "utf-8"
    assert mail.message["Message-ID"] == message_id("ouverture:1:1", MAIL_FROM)
    assert mail.message["Auto-Submitted"] == "auto-generated"


def test_attachments_arrive_byte_for_byte(
    session: Session, settings: Settings, cfg: ProcessConfig, world: World, mail_sink: MailSink
) -> None:
    docx = Attachment(
        "Convention IAE – projet.docx", os.urandom(4096) + b"\x00\xff\r\n.\r\n" + os.urandom(512)
    )
    pdf = Attachment("contrat_implantation.pdf", b"%PDF-1.7\n" + os.urandom(2048), "application/pdf")
    assert _send(session, settings, cfg, world, attachments=[docx, pdf]) is not None

    received = list(mail_sink.mails[0].message.iter_attachments())
    assert [part.get_filename() for part in received] == [docx.filename, pdf.filename]
    assert [part.get_content_type() for part in received] == [docx.mimetype, "application/pdf"]
    assert [part.get_content() for part in received] == [docx.content, pdf.content]


def test_smtp_down_raises_french_error_and_records_nothing(
    session: Session, engine: Engine, dead_settings: Settings, cfg: ProcessConfig, world: World
) -> None:
    with pytest.raises(MailError) as caught:
        _send(session, dead_settings, cfg, world)
    message = str(caught.value)
    assert message.startswith(
        f"Envoi du courriel impossible par le serveur SMTP 127.0.0.1:{dead_settings.smtp_port}"
    )
    assert "connexion refusée" in message
    assert "Rien n'a été enregistré" in message
    # Even a caller that commits after the failure keeps no trace of a mail that never left.
    session.commit()
    with Session(engine) as fresh:
        assert fresh.exec(select(NotificationRecord)).all() == []


def test_mail_after_an_smtp_failure_goes_out_on_retry(
    session: Session,
    dead_settings: Settings,
    settings: Settings,
    cfg: ProcessConfig,
    world: World,
    mail_sink: MailSink,
) -> None:
    with pytest.raises(MailError):
        _send(session, dead_settings, cfg, world)
    session.rollback()
    assert _send(session, settings, cfg, world) is not None
    session.commit()
    assert len(mail_sink.mails) == 1


def test_rejects_bad_recipients_and_unknown_project(
    session: Session, settings: Settings, cfg: ProcessConfig, world: World, mail_sink: MailSink
) -> None:
    context = _context(session, cfg, world)
    common = {"stage": 1, "kind": MailKind.STAGE_OPENED, "context": context}
    with pytest.raises(MailError, match="Aucun destinataire"):
        send_once(session, settings, project_id=world.project_id, dedup_key="a", recipients=[], **common)  # type: ignore[arg-type]
    with pytest.raises(MailError, match="Adresse électronique invalide"):
        send_once(
            session,
            settings,
            project_id=world.project_id,
            dedup_key="b",
            recipients=["x@exemple.test\r\nBcc: espion@exemple.test"],
            **common,  # type: ignore[arg-type]
        )
    with pytest.raises(MailError, match="projet introuvable"):
        send_once(session, settings, project_id=9999, dedup_key="c", recipients=["a@exemple.test"], **common)  # type: ignore[arg-type]
    assert mail_sink.mails == []
    assert session.exec(select(NotificationRecord)).all() == []


def test_sent_at_is_the_sending_time(
    session: Session, settings: Settings, cfg: ProcessConfig, world: World, mail_sink: MailSink
) -> None:
    sending = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)
    with time_machine.travel(sending, tick=False):
        record = _send(session, settings, cfg, world)
    session.commit()
    assert record is not None
    assert record.sent_at == sending
    assert mail_sink.mails[0].message["Date"].datetime == sending


def test_the_national_overview_goes_to_atigip_once_a_day(
    session: Session,
    engine: Engine,
    settings: Settings,
    cfg: ProcessConfig,
    world: World,
    mail_sink: MailSink,
) -> None:
    session.add(
        Person(
            full_name="Camille Rousseau",
            email="pilotage@atigip.exemple.test",
            organisation="ATIGIP",
            role=Role.ATIGIP,
            territory="NATIONAL",
        )
    )
    session.commit()
    day = date(2026, 12, 1)
    rows = overview(session, cfg, day)

    assert send_overview(session, cfg, settings, rows, day, b"xlsx", b"png") == [
        "pilotage@atigip.exemple.test"
    ]
    # A second run the same day, on demand or retried, in another session: nothing more goes out.
    with Session(engine) as other:
        assert send_overview(other, cfg, settings, rows, day, b"xlsx", b"png") == []
    assert len(mail_sink.mails) == 1
    stored = session.exec(select(NotificationRecord).where(NotificationRecord.project_id == None)).all()  # noqa: E711
    assert [(r.dedup_key, r.kind, r.stage) for r in stored] == [
        ("tableau-national:2026-12-01", "tableau_national", None)
    ]
    # The next day's overview is another e-mail.
    assert send_overview(session, cfg, settings, rows, day + timedelta(days=1), b"x", b"p")
    assert len(mail_sink.mails) == 2


@pytest.mark.parametrize("flushed", [False, True], ids=["en-attente", "envoyees-a-la-base"])
def test_send_once_never_commits_its_callers_writes(
    session: Session,
    engine: Engine,
    settings: Settings,
    cfg: ProcessConfig,
    world: World,
    mail_sink: MailSink,
    flushed: bool,
) -> None:
    """The caller decides when its transaction ends: a write it has not committed is refused, not committed."""
    context = _context(session, cfg, world)
    session.commit()
    person = session.exec(select(Person).order_by(Person.id)).first()  # type: ignore[arg-type]
    assert person is not None
    before = person.full_name
    person.full_name = "Nom modifié sans validation"
    session.add(person)
    if flushed:
        session.flush()
    with pytest.raises(RuntimeError, match="uncommitted writes"):
        send_once(
            session,
            settings,
            project_id=world.project_id,
            stage=1,
            kind=MailKind.STAGE_OPENED,
            dedup_key="ouverture:1:1",
            recipients=["lead@exemple.test"],
            context=context,
        )
    session.rollback()
    assert mail_sink.mails == []
    with Session(engine) as other:
        assert other.get(Person, person.id).full_name == before  # type: ignore[union-attr]
        assert other.exec(select(NotificationRecord)).all() == []
