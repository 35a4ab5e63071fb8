"""Typed settings, read once at the entry point and passed down (never a global)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
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
    public_url: str | None = Field(
        default=None,
        description="The address people and providers reach the web app at; short links use it",
    )
    mc_ca_cert: str | None = Field(
        default=None,
        description="A CA file to trust, besides the system's, when calling Marketing Cloud "
        "from the web app (the Marketing Cloud sandbox's ca_cert)",
    )
    mc_sync_interval: float = Field(
        default=30.0,
        gt=0,
        description="Seconds between two report write-back passes of a business unit in "
        "peoplesync serve",
    )
    mc_sync_lease: float = Field(
        default=120.0,
        ge=1.0,
        description="Seconds a write-back pass holds its business unit against other "
        "processes (renewed page by page; a killed holder's lease runs out after this)",
    )
    batch_size: int = Field(default=5000, ge=1, le=100_000, description="Rows per write batch")
    log_level: str = "INFO"
    journey_frame_ancestors: str = Field(
        default="",
        description="Extra origins (space-separated) allowed to frame the Journey Builder "
        "activity pages, besides Marketing Cloud's own",
    )
    worker_hold: float = Field(
        default=300.0,
        gt=0,
        description="Seconds a worker holds an integration's change streams or push loop "
        "before handing the job back to the queue (any worker may take it next)",
    )
    worker_heartbeat: float = Field(
        default=10.0, gt=0, description="Seconds between a worker's heartbeats in the queue"
    )
    worker_stalled_after: float = Field(
        default=30.0,
        gt=0,
        description="Seconds without a heartbeat after which a worker counts as dead and its "
        "jobs are run again by the others",
    )
    worker_recover_cron: str = Field(
        default="* * * * * */10",
        description="When workers look for stalled jobs (cron; a 6th field gives seconds)",
    )
    worker_reconcile_cron: str = Field(
        default="*/15 * * * *", description="When every integration gets a reconciliation poll"
    )
    worker_keep_cron: str = Field(
        default="* * * * *",
        description="When workers make sure every runnable integration has its jobs queued",
    )
    worker_mc_sync_cron: str = Field(
        default="* * * * * */30",
        description="When workers queue a report write-back job for every business unit "
        "(cron; a 6th field gives seconds)",
    )
    worker_log_days: int = Field(
        default=14, ge=1, description="Days the job log and finished queue jobs are kept"
    )
    worker_sync_interval: float = Field(
        default=60.0, gt=0, description="Seconds between a worker's inbound polls (no streams)"
    )
    worker_reconcile_every: float = Field(
        default=900.0, gt=0, description="Seconds between polls while the change streams run"
    )
    worker_push_interval: float = Field(
        default=2.0, gt=0, description="Seconds between a worker's push passes"
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        description="Bearer token a Prometheus scraper sends to read /metrics",
    )
    metrics_public: bool = Field(
        default=False,
        description="Serve /metrics without a token (only on a network you trust)",
    )

    def resolved_database_url(self) -> str:
        """The database URL to use, defaulting to SQLite under ``data_dir``."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'peoplesync.db').resolve()}"
