"""The deployment files say what the code reads: every setting in the example environment file, the
systemd units start the launcher, and the runbook names the commands that exist."""

import configparser
import re

from implantation.cli import build_app
from implantation.settings import PROJECT_ROOT, Settings

DEPLOY = PROJECT_ROOT / "deploy"
SECRETS = (
    "SIAE_SECRET_KEY",
    "PREFECT_SERVER_API_AUTH_STRING",
    "PREFECT_API_AUTH_STRING",
    "SIAE_SMTP_PASSWORD",
)


def test_the_example_environment_names_every_setting_and_marks_the_secrets() -> None:
    text = (DEPLOY / "siae.env.exemple").read_text(encoding="utf-8")
    named = set(re.findall(r"\b(SIAE_[A-Z_]+|PREFECT_[A-Z_]+)\b", text))
    wanted = {f"SIAE_{name.upper()}" for name in Settings.model_fields}
    assert wanted - named == set()
    lines = text.splitlines()
    for secret in SECRETS:
        at = next(i for i, line in enumerate(lines) if line.startswith(f"{secret}="))
        assert "[SECRET]" in lines[at - 1] or "[SECRET]" in lines[at - 2], secret
    assert "PREFECT_LOCAL_STORAGE_PATH=" in text and "SIAE_URL_PUBLIQUE=" in text


def test_the_units_start_the_launcher() -> None:
    for unit, option in (("siae-serveur", "--hote"), ("siae-runner", "--sans-serveur")):
        parser = configparser.ConfigParser(strict=False, interpolation=None)
        parser.read(DEPLOY / "systemd" / f"{unit}.service", encoding="utf-8")
        start = parser["Service"]["ExecStart"]
        assert "-m flows.runtime.serve" in start and option in start
        assert parser["Service"]["EnvironmentFile"] == "/etc/siae/siae.env"


def test_the_runbook_names_commands_that_exist() -> None:
    runbook = (DEPLOY / "README.md").read_text(encoding="utf-8")
    app = build_app()
    commands = {c.name for c in app.registered_commands}
    groups = {g.name: g.typer_instance for g in app.registered_groups}
    assert "migrer" in commands and "siae migrer" in runbook
    journal = groups["journal"]
    assert journal is not None and "verifier" in {c.name for c in journal.registered_commands}
    for needed in ("siae journal verifier", "pg_dump", "pg_restore", "HTTPS", "--url-publique"):
        assert needed in runbook
