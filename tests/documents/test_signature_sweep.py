"""The daily sweep verifies every recorded signature again and alerts like a broken journal."""

from datetime import date
from pathlib import Path

import factories
import pytest
from mailsink import MailSink, mail_sink  # noqa: F401  (fixture)
from sqlalchemy import update
from sqlmodel import Session, SQLModel, col, select

from implantation.config.schema import ProcessConfig
from implantation.db.models import DocumentFile, DocumentRecord, Person
from implantation.db.session import get_engine
from implantation.documents.service import generate_pack
from implantation.enums import DocumentKind, Role
from implantation.settings import PROJECT_ROOT, get_settings
from tasks.sweep import verify_signatures_task

DAY = date(2026, 3, 2)


@pytest.fixture
def app_session(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mail_sink: MailSink):  # type: ignore[no-untyped-def]  # noqa: F811
    """The application's settings from SIAE_* variables, as the runner reads them."""
    url = f"sqlite:///{tmp_path / 'app.db'}"
    for name, value in {
        "SIAE_DATABASE_URL": url,
        "SIAE_DATA_DIR": str(tmp_path / "data"),
        "SIAE_CONFIG_DIR": str(PROJECT_ROOT / "config"),
        "SIAE_SMTP_HOST": "127.0.0.1",
        "SIAE_SMTP_PORT": str(mail_sink.port),
    }.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    get_engine.cache_clear()
    engine = get_engine(url)
    SQLModel.metadata.create_all(engine)
    with Session(engine, expire_on_commit=False) as session:
        yield session
    engine.dispose()
    get_settings.cache_clear()
    get_engine.cache_clear()


def test_a_signed_file_altered_in_storage_fails_the_sweep_and_alerts_once(
    app_session: Session,
    cfg: ProcessConfig,
    new_project,
    mail_sink: MailSink,  # noqa: F811
) -> None:
    session = app_session
    project_id = new_project(session)
    session.add(
        Person(
            full_name="Camille Rousseau",
            email="pilotage.national@atigip.exemple.gouv.test",
            organisation="ATIGIP",
            role=Role.ATIGIP,
            territory="NATIONAL",
        )
    )
    records = generate_pack(session, project_id, cfg, get_settings())
    contract = next(r for r in records if r.kind == DocumentKind.IMPLANTATION_CONTRACT)
    factories.sign_with_demo_certificates(session, cfg, project_id, contract, [Role.SIAE, Role.EP])
    session.commit()
    assert verify_signatures_task.fn(DAY).model_dump() == {"checked": 2, "failing": {}, "told": 0}

    row = session.exec(select(DocumentFile).where(DocumentFile.purpose == "pdf_signe")).first()
    assert row is not None
    altered = bytearray(row.content)
    altered[len(altered) // 2] ^= 0x01
    session.execute(update(DocumentFile).where(col(DocumentFile.id) == row.id).values(content=bytes(altered)))
    session.commit()
    result = verify_signatures_task.fn(DAY)
    assert result.failing == {"IMP-2026-0001": 1} and not result.ok and result.told >= 1
    (alert,) = [m for m in mail_sink.mails if "Signatures qui ne se vérifient plus" in m.subject]
    assert "contrat_implantation_IMP-2026-0001_v1.pdf" in alert.body
    assert "pilotage.national@atigip.exemple.gouv.test" in alert.rcpt_tos
    assert "Durand" not in alert.body
    # Failing again the same day tells nobody twice.
    assert verify_signatures_task.fn(DAY).failing == {"IMP-2026-0001": 1}
    assert len([m for m in mail_sink.mails if "Signatures qui ne se vérifient plus" in m.subject]) == 1
    assert session.get(DocumentRecord, contract.id) is not None
