"""Deployment settings: where things live and how to reach services.

Process data (stages, amounts, signature matrix) is *not* here: it lives in the TOML files
under ``config/`` so that a yearly arrêté is a data edit, not a code change.
"""

from datetime import date
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Mode(StrEnum):
    """What the process is for: only a demonstration or the test suite may bend time or break on purpose."""

    PRODUCTION = "production"
    DEMO = "demo"
    TEST = "test"


# The settings that exist for the demonstration and the tests only, by the variable an operator would set.
TEST_HOOKS = {"today": "SIAE_TODAY", "test_fault": "SIAE_TEST_FAULT"}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SIAE_", env_file=".env", extra="ignore")

    data_dir: Path = Field(default=PROJECT_ROOT / "data", description="Répertoire des données locales")
    database_url: str | None = Field(default=None, description="URL SQLAlchemy ; SQLite local par défaut")
    config_dir: Path = Field(default=PROJECT_ROOT / "config", description="Répertoire des fichiers TOML")
    templates_dir: Path = Field(default=PROJECT_ROOT / "document_templates")

    smtp_host: str = "127.0.0.1"
    smtp_port: int = 8025
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    mail_from: str = "ne-pas-repondre@siae-penitentiaire.local"

    prefect_ui_url: str = Field(
        default="http://127.0.0.1:4200",
        description="Interface Prefect citée par les courriels et la CLI ; SIAE_URL_PUBLIQUE par défaut",
    )
    url_publique: str | None = Field(
        default=None,
        description="Adresse publique du serveur (celle des navigateurs, derrière le proxy HTTPS)",
    )
    runner_poll_seconds: float = Field(
        default=1.0,
        gt=0,
        description="Secondes entre deux interrogations du serveur Prefect par le runner. Les exécutions "
        "qu'une personne attend partent dès que le serveur les annonce ; l'interrogation lance le balayage "
        "planifié et rattrape une annonce manquée.",
    )
    recovery_seconds: float = Field(
        default=15.0,
        gt=0,
        description="Secondes entre deux recherches, par le runner, des runs d'étape dont le processus est mort "
        "(runner tué, machine arrêtée) : ils sont replanifiés et rejoués.",
    )
    recovery_stale_seconds: float = Field(
        default=90.0,
        ge=35,
        description="Un run « Running » sans battement de cœur (toutes les 30 s) depuis ce délai, et dont le "
        "processus n'est pas sur cette machine, est tenu pour mort et replanifié.",
    )
    prefect_tuning: bool = Field(
        default=True,
        description="0 : Prefect tel que livré (démarrage des runs, runner, client et serveur d'origine, "
        "seuls les réglages documentés de Prefect restent) ; 1 (par défaut) : les corrections de "
        "flows/runtime/README.md. Sert à distinguer un défaut de Prefect d'un défaut du produit.",
    )
    prefect_tuning_off: str = Field(
        default="",
        description="Corrections à désactiver une à une, séparées par des virgules (noms dans "
        "flows/runtime/README.md, par exemple « wakeup,shared_tls ») ; un nom inconnu est refusé.",
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description="Clé des codes de décision envoyés par courriel (HMAC) ; obligatoire hors démonstration",
    )
    mode: Mode = Field(
        default=Mode.PRODUCTION,
        description="production (par défaut) ; demo (make demo, make serve sur la boucle locale sans clé) ; "
        "test (la suite de tests). Hors production seulement : sans SIAE_SECRET_KEY, une clé est créée une "
        "fois sous data_dir, et les variables de test (SIAE_TODAY, SIAE_TEST_FAULT) sont acceptées.",
    )
    soffice_path: str | None = Field(
        default=None, description="Chemin de soffice ; recherché dans le PATH sinon"
    )
    today: date | None = Field(
        default=None,
        description="Date du jour imposée (démonstration, tests de bout en bout) : un scénario daté ne dépend "
        "pas du jour où il tourne. La date réelle sinon. Refusée en production.",
    )
    test_fault: str | None = Field(
        default=None,
        description="Point de panne des tests de reprise (implantation.fault_points). Refusé en production.",
    )

    @field_validator(*TEST_HOOKS)
    @classmethod
    def _only_outside_production(cls, value: object, info: ValidationInfo) -> object:
        """A demo ``.env`` copied to a server would freeze every deadline, or kill processes on purpose."""
        if value is not None and info.data.get("mode", Mode.PRODUCTION) == Mode.PRODUCTION:
            variable = TEST_HOOKS[info.field_name or ""]
            raise ValueError(
                f"{variable} est réservée à la démonstration et aux tests : elle est refusée en production. "
                f"Retirez {variable} de l'environnement (ou du fichier .env), ou définissez SIAE_MODE=demo "
                "pour une démonstration."
            )
        return value

    @model_validator(mode="after")
    def _public_address_names_the_ui(self) -> "Settings":
        """Without an explicit UI URL, the links follow the public address, never a listen address."""
        if self.url_publique and "prefect_ui_url" not in self.model_fields_set:
            self.prefect_ui_url = self.url_publique.rstrip("/")
        return self

    @property
    def production(self) -> bool:
        return self.mode == Mode.PRODUCTION

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'siae.db'}"

    @property
    def documents_dir(self) -> Path:
        return self.data_dir / "documents"


@lru_cache
def get_settings() -> Settings:
    return Settings()
