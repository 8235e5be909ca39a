"""Money, ETP and hours are NUMERIC columns read back as the exact Decimal written, on both backends."""

from decimal import Decimal

import factories
from sqlalchemy import inspect
from sqlalchemy.engine import Engine
from sqlmodel import Session

from implantation.config.schema import ProcessConfig
from implantation.db.models import ImplantationProject, Operateur
from implantation.enums import LegalStatus


def test_decimals_round_trip_exactly(session: Session, engine: Engine, cfg: ProcessConfig) -> None:
    project, _ = factories.project(session, cfg)
    project.insertion_posts_etp = Decimal("7.35")
    project.staff_cip_etp = Decimal("0.1")
    project.modulated_share = Decimal("0.0325")
    op = Operateur(
        project_id=project.id,  # type: ignore[arg-type]
        legal_status=LegalStatus.CONVICTED,
        quantum_months=12,
        weekly_hours=Decimal("24.5"),
        hourly_rate=Decimal("5.41"),
    )
    session.add_all([project, op])
    session.commit()
    session.expunge_all()
    stored = session.get(ImplantationProject, project.id)
    worker = session.get(Operateur, op.id)
    assert stored is not None and worker is not None
    assert (stored.insertion_posts_etp, stored.staff_cip_etp, stored.modulated_share) == (
        Decimal("7.35"),
        Decimal("0.1"),
        Decimal("0.0325"),
    )
    assert isinstance(worker.hourly_rate, Decimal) and worker.hourly_rate == Decimal("5.41")
    assert worker.weekly_hours == Decimal("24.5")
    # 10 × 5,41 € is 54,10 € exactly, which a binary float (54.1000000000000014…) is not.
    assert worker.hourly_rate * 10 == Decimal("54.10")
    columns = {c["name"]: c["type"] for c in inspect(engine).get_columns("operateur")}
    assert "NUMERIC" in str(columns["hourly_rate"]).upper()
