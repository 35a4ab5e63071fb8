"""Sandbox secrets kept owner-only and never replaced."""

from __future__ import annotations

import stat
from pathlib import Path

from peoplesync.sandbox.owner_file import kept_secret


def test_made_once_owner_only_then_read_back(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "api.key"
    made = iter(["first", "second"])
    assert kept_secret(path, lambda: next(made)) == "first"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert kept_secret(path, lambda: next(made)) == "first"
