"""The revision check of the command line (read from the files) agrees with Alembic's."""

from sqlalchemy.engine import Engine

from implantation.db.migrate import current_revision, head_revision
from implantation.db.revision import database_revision, script_head


def test_the_head_read_from_the_files_is_alembics() -> None:
    assert script_head() == head_revision()


def test_the_revision_of_a_database_is_alembics(engine: Engine, fresh_url: str) -> None:
    assert database_revision(engine) == current_revision(engine) == head_revision()
    from implantation.db.session import make_engine

    empty = make_engine(fresh_url)
    try:
        assert database_revision(empty) is None and current_revision(empty) is None
    finally:
        empty.dispose()
