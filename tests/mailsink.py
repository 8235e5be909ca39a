"""Shared by tests/notifications and tests/deadlines: a real SMTP server on loopback and a small world.

The SMTP server is aiosmtpd on 127.0.0.1 with a free port; it keeps the raw bytes it received so
that tests parse exactly what a mail client would.
"""

import email
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

from implantation.config.loader import load_process_config
from implantation.config.schema import ProcessConfig
from implantation.db.models import Establishment, ImplantationProject, NotificationRecord, Person, Siae
from implantation.db.session import make_engine
from implantation.enums import EstablishmentType, Role, SiaeKind
from implantation.notifications.mailer import MailKind
from implantation.services.workflow import SYSTEM, create_project
from implantation.settings import PROJECT_ROOT, Settings

MAIL_FROM = "pilotage@siae-detention.test"


@dataclass
class ReceivedMail:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.raw, policy=default_policy)
        assert isinstance(parsed, EmailMessage)
        return parsed

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def body(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        assert part is not None
        return str(part.get_content())


@dataclass
class MailSink:
    port: int
    mails: list[ReceivedMail] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.mails.append(
                ReceivedMail(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content)
            )
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def mail_sink() -> Iterator[MailSink]:
    sink = MailSink(port=free_port())
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()


def make_settings(tmp_path: Path, port: int) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        config_dir=PROJECT_ROOT / "config",
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_user=None,
        smtp_password=None,
        smtp_starttls=False,
        mail_from=MAIL_FROM,
        prefect_ui_url="http://127.0.0.1:4200",
    )


@pytest.fixture
def settings(tmp_path: Path, mail_sink: MailSink) -> Settings:
    return make_settings(tmp_path, mail_sink.port)


@pytest.fixture
def dead_settings(tmp_path: Path) -> Settings:
    """Points at a loopback port where nothing listens."""
    return make_settings(tmp_path, free_port())


@pytest.fixture(scope="session")
def cfg() -> ProcessConfig:
    return load_process_config(PROJECT_ROOT / "config")


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'notifications.db'}"


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    SQLModel.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as s:
        yield s


@dataclass
class World:
    """Ids of a project in Lyon-Corbas (Rhône, région 84, DISP Lyon) and of the people around it."""

    project_id: int
    establishment_id: int
    siae_id: int
    other_siae_id: int
    people: dict[str, int]

    def person(self, session: Session, name: str) -> Person:
        person = session.get(Person, self.people[name])
        assert person is not None
        return person

    def project(self, session: Session) -> ImplantationProject:
        project = session.get(ImplantationProject, self.project_id)
        assert project is not None
        return project


def _person(
    session: Session,
    key: str,
    role: Role,
    territory: str,
    *,
    manager: Person | None = None,
    siae: Siae | None = None,
) -> Person:
    person = Person(
        full_name=f"Personne {key}",
        email=f"{key}@exemple.test",
        organisation=f"{role.label} {territory}",
        role=role,
        territory=territory,
        manager_id=manager.id if manager else None,
        siae_id=siae.id if siae else None,
    )
    session.add(person)
    session.flush()
    return person


def make_world(
    session: Session,
    cfg: ProcessConfig,
    started_on: date = date(2026, 1, 5),
    establishment_name: str = "Maison d'arrêt de Lyon-Corbas",
) -> World:
    """Create the people, the establishment and a project (stage 1 open) through the real service."""
    establishment = Establishment(
        code="0690001",
        name=establishment_name,
        type=EstablishmentType.MA,
        departement="69",
        city="Corbas",
    )
    siae = Siae(
        siret="12345678900012",
        name="Les Ateliers d'Été",
        kind=SiaeKind.ACI,
        address="1 rue de l'Égalité",
        postal_code="69000",
        city="Lyon",
    )
    other_siae = Siae(
        siret="98765432100019",
        name="Autre SIAE",
        kind=SiaeKind.EI,
        address="2 rue du Port",
        postal_code="75001",
        city="Paris",
    )
    session.add_all([establishment, siae, other_siae])
    session.flush()
    p: dict[str, Person] = {}
    p["dir_disp"] = _person(session, "dir_disp", Role.DISP, "LYON")
    p["lead"] = _person(session, "lead", Role.DISP, "LYON", manager=p["dir_disp"])
    p["disp_paris"] = _person(session, "disp_paris", Role.DISP, "PARIS")
    p["chef_ep"] = _person(session, "chef_ep", Role.DISP, "PARIS")
    p["chef_spip"] = _person(session, "chef_spip", Role.DISP, "PARIS")
    p["ep"] = _person(session, "ep", Role.EP, "69", manager=p["chef_ep"])
    p["ep_paris"] = _person(session, "ep_paris", Role.EP, "75")
    p["spip"] = _person(session, "spip", Role.SPIP, "69", manager=p["chef_spip"])
    p["ule"] = _person(session, "ule", Role.ULE, "69")
    p["ule_paris"] = _person(session, "ule_paris", Role.ULE, "75")
    p["psy"] = _person(session, "psy", Role.PSY_PEP, "69")
    p["dreets"] = _person(session, "dreets", Role.DREETS, "84")
    p["ddets"] = _person(session, "ddets", Role.DDETS, "69")
    p["ft"] = _person(session, "ft", Role.FRANCE_TRAVAIL, "69")
    p["ml"] = _person(session, "ml", Role.MISSION_LOCALE, "69")
    p["siae"] = _person(session, "siae", Role.SIAE, "69", siae=siae)
    p["other_siae"] = _person(session, "other_siae", Role.SIAE, "75", siae=other_siae)
    project = create_project(session, cfg, establishment.id, p["lead"].id, started_on, SYSTEM)  # type: ignore[arg-type]
    session.commit()
    return World(
        project_id=project.id,  # type: ignore[arg-type]
        establishment_id=establishment.id,  # type: ignore[arg-type]
        siae_id=siae.id,  # type: ignore[arg-type]
        other_siae_id=other_siae.id,  # type: ignore[arg-type]
        people={k: v.id for k, v in p.items()},  # type: ignore[misc]
    )


@pytest.fixture
def world(session: Session, cfg: ProcessConfig) -> World:
    return make_world(session, cfg)


def leave_stale_claim(
    session: Session, project_id: int, claimed_at: datetime, recipients: str = "lead@exemple.test"
) -> None:
    """The claim a sender killed mid-exchange leaves behind on ``ouverture:1:1`` (committed, still pending)."""
    session.add(
        NotificationRecord(
            project_id=project_id,
            stage=1,
            kind=MailKind.STAGE_OPENED.value,
            dedup_key="ouverture:1:1",
            recipients=recipients,
            subject="x",
            pending=True,
            sent_at=claimed_at,
        )
    )
    session.commit()
