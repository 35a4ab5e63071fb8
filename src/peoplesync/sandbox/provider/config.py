"""The sandbox provider's settings and fault knobs."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class ProviderKnobs:
    """Faults and delays, each a share of calls or a duration."""

    latency_ms: int = 0  # added to every API call
    rate_500: float = 0.0  # share of send calls answered 500
    rate_429: float = 0.0  # share of send calls answered 429 Too Many Requests
    report_delay_seconds: float = 1.0  # from accept to the final delivery report
    seen_delay_seconds: float = 2.0  # from delivery to seen, for channels that report it
    pending_expiry_seconds: float = 60.0  # when a message "pending until expiry" expires
    report_batch: int = 100  # reports due together to one URL: at most this many in one post
    webhook_concurrency: int = 4  # report posts in flight at once


@dataclass(frozen=True)
class ProviderConfig:
    """One sandbox provider: where it keeps its data, its API key, its seed and knobs."""

    data_dir: Path
    api_key: str = field(repr=False)
    seed: int = 0
    knobs: ProviderKnobs = field(default_factory=ProviderKnobs)
    # Webhook retries: 1 min + 1 min x n^2 as the real API, times this scale (tests use 0.001).
    retry_scale: float = 1.0
    max_webhook_attempts: int = 6
    mo_url: str | None = None  # where replies from handsets go, unless PUT /control/mo-url

    @property
    def database_path(self) -> Path:
        return self.data_dir / "provider.sqlite3"
