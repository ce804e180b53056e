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
DEV_PSEUDONYM_KEY = "citycommons-development-pseudonym-key"  # noqa: S105 - refused outside development


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
    pseudonym_key: str = Field(
        DEV_PSEUDONYM_KEY,
        description="Secret (16+ characters) turning user ids and client addresses into the pseudonyms stored in the "
        "transparency log (HMAC-SHA256). Must be set outside development; changing it breaks pseudonym continuity.",
    )
    ledger_signing_key_file: Path | None = Field(
        None,
        description="Ed25519 private key (PEM) that signs the log's tree heads. Default: `ledger/signing-key.pem` in "
        "data_dir, created on first start.",
    )
    ledger_tree_head_interval_seconds: float = Field(
        300.0,
        description="How often the server signs a new tree head when the log has grown (0 turns the signer off).",
    )
    register_allow_self_publish: bool = Field(
        False,
        description="Lets the author of an algorithm-register record publish it (off: a second reviewer must).",
    )
    map_tile_url: str | None = Field(
        None,
        description="Tile URL template (`https://tile.example.org/{z}/{x}/{y}.png`) for the initiatives and data maps. "
        "Default: none, maps draw on a plain background and work offline.",
    )
    map_tile_attribution: str = Field("", description="Attribution shown under maps when map_tile_url is set.")
    initiative_min_fill_seconds: float = Field(
        3.0, description="Initiative forms submitted faster than this after being shown are treated as spam."
    )
    datastore_dir: Path | None = Field(
        None,
        description="Directory of the datastore's Parquet versions (local backend) or its local cache (s3). "
        "Default: `datastore` in data_dir.",
    )
    datastore_storage: Literal["local", "s3"] = Field(
        "local", description="Where Parquet versions are kept: `local` disk or S3-compatible object storage."
    )
    s3_endpoint_url: str | None = Field(
        None, description="Endpoint of the S3-compatible object storage (e.g. `http://127.0.0.1:9000`); none: AWS."
    )
    s3_bucket: str = Field("citycommons", description="Bucket holding the datastore's Parquet versions.")
    s3_prefix: str = Field("datastore", description="Key prefix inside the bucket.")
    s3_region: str = Field("us-east-1", description="Region of the object storage.")
    s3_access_key_id: str | None = Field(None, description="Access key of the object storage.")
    s3_secret_access_key: str | None = Field(None, description="Secret key of the object storage.")
    datastore_cache_max_bytes: int = Field(
        10 * 1024**3,
        description="With s3 storage: most bytes of Parquet kept in the local read-through cache (least recently "
        "used versions are evicted; 0: no bound).",
    )
    datastore_query_timeout_seconds: float = Field(10.0, description="Wall-clock limit of one datastore query.")
    datastore_sql_row_cap: int = Field(
        10_000, description="Most rows a read-only SQL query returns as JSON (exports stream without a cap)."
    )
    datastore_max_page_size: int = Field(32_000, description="Largest `limit` of a datastore search page.")
    datastore_memory_limit: str = Field("768MB", description="DuckDB memory limit of an ingest.")
    datastore_threads: int = Field(2, description="DuckDB worker threads per ingest and read pool.")
    datastore_url_allowed_hosts: list[str] = Field(
        default_factory=list,
        description="Hosts whose URLs a distribution may be ingested from (the file is downloaded); empty: URL "
        "distributions are catalogued but not ingested.",
    )
    jobs_backend: Literal["inprocess", "redis"] = Field(
        "inprocess",
        description="Background jobs (ingests): `inprocess` worker threads, or a Redis queue served by "
        "`citycommons worker`.",
    )
    jobs_workers: int = Field(1, description="Worker threads of the in-process job backend.")
    redis_url: str = Field("redis://127.0.0.1:6379/0", description="Redis of the `redis` job backend.")

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
        if self.environment == "production" and self.pseudonym_key == DEV_PSEUDONYM_KEY:
            raise ValueError("CITYCOMMONS_PSEUDONYM_KEY must be set in production")
        if len(self.pseudonym_key) < 16:
            raise ValueError("CITYCOMMONS_PSEUDONYM_KEY must have at least 16 characters")
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
    def datastore_path(self) -> Path:
        return self.datastore_dir if self.datastore_dir is not None else self.data_dir / "datastore"

    @property
    def ledger_key_path(self) -> Path:
        return self.ledger_signing_key_file or self.data_dir / "ledger" / "signing-key.pem"

    @property
    def is_sqlite(self) -> bool:
        return self.sqlalchemy_url.startswith("sqlite")
