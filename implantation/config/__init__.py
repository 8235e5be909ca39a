"""Process configuration loaded from the TOML files under ``config/``."""

from implantation.config.loader import ConfigError, get_process_config, load_process_config
from implantation.config.schema import ProcessConfig

__all__ = ["ConfigError", "ProcessConfig", "get_process_config", "load_process_config"]
