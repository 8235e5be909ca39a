"""The bounds declared on the table models are enforced by the database itself, on both backends."""

import factories
import pytest
from sqlalchemy import inspect
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from implantation.config.schema import ProcessConfig
from implantation.db.models import StageRecord, _table_models, bound_checks


def test_every_declared_bound_is_a_check_constraint_of_the_migrated_schema(engine: Engine) -> None:
    inspector = inspect(engine)
    for model in _table_models():
        declared = {f"ck_{model.__tablename__}_{name}" for name in bound_checks(model)}
        found = {c["name"] for c in inspector.get_check_constraints(model.__tablename__)}
        assert declared <= found, model.__tablename__


def test_an_out_of_range_value_is_refused_by_the_database(session: Session, cfg: ProcessConfig) -> None:
    project, _lead = factories.project(session, cfg)
    session.commit()
    record = session.get(StageRecord, 1)
    assert record is not None
    record.stage = 0  # written as is: SQLModel does not validate table rows (stages count from 1)
    session.add(record)
    with pytest.raises(IntegrityError):
        session.commit()
    session.rollback()
    project.current_stage = 0
    session.add(project)
    with pytest.raises(IntegrityError):
        session.commit()
