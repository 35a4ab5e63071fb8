"""The Marketing Cloud sandbox's settings and fault knobs."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Knobs:
    """Faults and delays; changed at run time through ``PUT /sandbox/control``."""

    token_lifetime_seconds: int = 1079  # what the real /v2/token answers as expires_in
    latency_ms: int = 0  # added to every REST call
    rate_429: float = 0.0  # share of REST calls answered 429
    rate_500: float = 0.0  # share of REST calls answered 500
    fail_next_429: int = 0  # the next N REST calls are answered 429 (deterministic)
    fail_next_500: int = 0  # the next N REST calls are answered 500 (deterministic)
    retry_after_seconds: int = 1  # Retry-After sent with a 429


@dataclass(frozen=True)
class SandboxConfig:
    """One sandbox business unit: its data dir, MID and installed-package credentials."""

    data_dir: Path
    client_id: str
    client_secret: str = field(repr=False)
    jwt_secret: str = field(repr=False)
    mid: str = "100000001"
    seed: int = 0
    knobs: Knobs = field(default_factory=Knobs)

    @property
    def database_path(self) -> Path:
        return self.data_dir / "marketing-cloud.sqlite3"
