"""Where a database URL keeps its file: ``make_engine`` creates its folder, the forkserver does not create it."""

from pathlib import Path

import pytest

from implantation.db.session import sqlite_file


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:////var/lib/siae/siae.db", Path("/var/lib/siae/siae.db")),
        ("sqlite:///data/siae.db", Path("data/siae.db")),
        ("sqlite:///:memory:", None),
        ("sqlite://", None),
        ("postgresql://siae@db.exemple.test/siae", None),
    ],
)
def test_a_sqlite_url_names_its_file_and_no_other_url_does(url: str, expected: Path | None) -> None:
    assert sqlite_file(url) == expected
