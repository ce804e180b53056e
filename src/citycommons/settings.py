"""Every setting of citycommons, declared once.

Values come from (highest first) keyword arguments, ``CITYCOMMONS_*`` environment variables, the optional
TOML config file named by ``CITYCOMMONS_CONFIG_FILE``, then the defaults below. No other module reads
``os.environ``; build a ``Settings`` and pass it down (``create_app(settings)``).
"""

from __future__ import annotations

import os
import tomllib
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

DEV_SECRET = "development-only-secret-change-me"  # noqa: S105 - refused outside development


class _TomlFileSource(PydanticBaseSettingsSource):
    """Reads the TOML file named by CITYCOMMONS_CONFIG_FILE (keys as in Settings, without prefix)."""

    def __init__(self, settings_cls: type[BaseSettings]) -> None:
        super().__init__(settings_cls)
        path = os.environ.get("CITYCOMMONS_CONFIG_FILE")
        self._data: dict[str, Any] = {}
        if path:
            with open(path, "rb") as fh:
                self._data = tomllib.load(fh)

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self._data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return {k: v for k, v in self._data.items() if k in self.settings_cls.model_fields}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CITYCOMMONS_", extra="ignore")

    environment: Literal["development", "production", "test"] = Field(
        "development", description="`production` refuses default secrets and sets Secure cookies."
    )
    data_dir: Path = Field(
        Path("./var"), description="Directory for the embedded database, uploads and datastore files."
    )
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL of the metadata database. Default: SQLite file `citycommons.db` in "
        "data_dir. Production: `postgresql+psycopg://user@host/db`.",
    )
    secret_key: str = Field(
        DEV_SECRET, description="Signs session cookies and CSRF tokens. Must be set outside development."
    )
    site_url: str = Field(
        "http://127.0.0.1:8000",
        description="Public base URL of the portal, used in DCAT URIs, feeds, sitemaps and links.",
    )
    site_title: str = Field("citycommons", description="Short name of the portal shown in page titles.")
    default_locale: Literal["ca", "es", "en"] = Field(
        "ca", description="Language shown when the visitor has not chosen one and sends no Accept-Language."
    )
    max_upload_bytes: int = Field(
        200 * 1024 * 1024, description="Largest file accepted by an upload (resource_create, web form)."
    )
    max_body_bytes: int = Field(
        2 * 1024 * 1024, description="Largest JSON or form body accepted by the APIs (uploads excepted)."
    )
    rate_limit_enabled: bool = Field(True, description="Turns the built-in rate limiter on or off.")
    rate_limit_anonymous_per_minute: int = Field(
        600, description="Requests per minute allowed to one client address without a token."
    )
    rate_limit_token_per_minute: int = Field(
        3000, description="Requests per minute allowed to one API token or signed-in user."
    )
    session_max_age_seconds: int = Field(14 * 24 * 3600, description="Lifetime of a login session cookie.")
    search_page_size: int = Field(20, description="Datasets per page on the search page.")
    dcat_page_size: int = Field(100, description="Datasets per page of the paginated DCAT catalog export.")
    log_sql: bool = Field(False, description="Echo SQL statements to the log (debugging).")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _TomlFileSource(settings_cls), file_secret_settings)

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> Settings:
        if self.environment == "production" and self.secret_key == DEV_SECRET:
            raise ValueError("CITYCOMMONS_SECRET_KEY must be set in production")
        self.site_url = self.site_url.rstrip("/")
        return self

    @cached_property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'citycommons.db').resolve()}"

    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "uploads"

    @property
    def is_sqlite(self) -> bool:
        return self.sqlalchemy_url.startswith("sqlite")
