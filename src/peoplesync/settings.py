"""Typed settings, read once at the entry point and passed down (never a global)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything peoplesync reads from the environment (prefix ``PEOPLESYNC_``)."""

    model_config = SettingsConfigDict(env_prefix="PEOPLESYNC_", extra="ignore")

    data_dir: Path = Field(default=Path("./.peoplesync"), description="Where local state lives")
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy async URL; default is SQLite in the data directory",
    )
    default_phone_region: str | None = Field(
        default=None,
        description="ISO region (e.g. US) used to read phone numbers given without a + prefix",
    )
    secret_key: str | None = Field(
        default=None,
        repr=False,
        description="Fernet key for secrets at rest; default: secret.key in the data directory",
    )
    batch_size: int = Field(default=5000, ge=1, le=100_000, description="Rows per write batch")
    log_level: str = "INFO"
    journey_frame_ancestors: str = Field(
        default="",
        description="Extra origins (space-separated) allowed to frame the Journey Builder "
        "activity pages, besides Marketing Cloud's own",
    )

    def resolved_database_url(self) -> str:
        """The database URL to use, defaulting to SQLite under ``data_dir``."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'peoplesync.db').resolve()}"
