"""A project and its SIAE, committed, with the ``siae`` commands pointed at the test database."""

from pathlib import Path

import factories
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from implantation.config.schema import ProcessConfig
from implantation.settings import get_settings


@pytest.fixture
def seeded(
    engine: Engine, migrated_url: str, cfg: ProcessConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SIAE_DATABASE_URL", migrated_url)
    monkeypatch.setenv("SIAE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COLUMNS", "220")
    get_settings.cache_clear()
    with Session(engine) as session:
        factories.siae(session, cfg)
        factories.project(session, cfg)
        session.commit()
    yield engine
    get_settings.cache_clear()
