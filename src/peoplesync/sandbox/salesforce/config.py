"""Configuration of one sandbox org: credentials it accepts, limits and fault knobs."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from peoplesync.sandbox.salesforce.ids import to18


@dataclass
class FaultKnobs:
    """Faults injected into REST, Bulk and streaming calls; changeable at run time."""

    latency_ms: int = 0
    rate_503: float = 0.0
    rate_timeout: float = 0.0
    rate_lock_error: float = 0.0
    timeout_seconds: float = 30.0
    # Bulk jobs wait this long once closed, then work through rows at these rates (0: at
    # once), as an org does; shares of jobs the org ends Failed or Aborted by itself.
    bulk_latency_seconds: float = 2.0
    bulk_rows_per_second: float = 10_000.0
    bulk_query_rows_per_second: float = 100_000.0  # query jobs read faster than ingest writes
    rate_bulk_failed: float = 0.0
    rate_bulk_aborted: float = 0.0


@dataclass
class SandboxConfig:
    """Everything a sandbox org is started with. Deterministic under ``seed``."""

    data_dir: Path
    instance_url: str = "https://127.0.0.1:8443"
    client_id: str = "3MVG9sandboxPeoplesyncConsumerKey"
    client_secret: str = "sandbox-consumer-secret"  # noqa: S105 - well-known demo credential
    username: str = "admin@sandbox.peoplesync.local"
    password: str = "sandbox-password"  # noqa: S105 - well-known demo credential
    security_token: str = ""
    org_name: str = "peoplesync Sandbox Org"
    token_lifetime_seconds: int = 7200
    api_daily_limit: int = 100_000
    max_concurrent_long_requests: int = 25
    seed: int = 0
    streaming_timeout_seconds: float = 110.0
    event_retention_hours: float = 72.0
    knobs: FaultKnobs = field(default_factory=FaultKnobs)

    @property
    def bulk_draw_seed(self) -> int:
        """Seed of the draws deciding which bulk jobs the org fails or aborts."""
        return self.seed * 7919 + 1

    @property
    def org_id(self) -> str:
        """The 18-character Organization id of this org: stable for its data directory, and
        different for two orgs kept in two directories (as two real orgs would be)."""
        digest = hashlib.sha256(str(self.data_dir.resolve()).encode()).hexdigest()
        return to18("00D8d" + digest[:10])

    @property
    def user_id(self) -> str:
        """The 18-character User id of the org's one API user (the admin)."""
        return to18("0058d0000000001")

    @property
    def database_path(self) -> Path:
        """The SQLite file that holds the org's data."""
        return self.data_dir / "org.sqlite3"
