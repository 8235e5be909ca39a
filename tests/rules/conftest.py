"""The shipped process configuration, loaded once: the rules are tested against the real figures."""

from pathlib import Path

import pytest

from implantation.config.loader import load_process_config
from implantation.config.schema import ProcessConfig

CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"


@pytest.fixture(scope="session")
def cfg() -> ProcessConfig:
    return load_process_config(CONFIG_DIR)
