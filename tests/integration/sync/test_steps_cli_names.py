"""`peoplesync steps` on an integration name that is not connected: the change is kept for
when it is, and the command says so (a mistyped --name changes no running integration)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from peoplesync.cli.main import app


def test_a_change_to_a_profile_no_integration_uses_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PEOPLESYNC_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("PEOPLESYNC_DATABASE_URL", raising=False)
    done = CliRunner().invoke(app, ["steps", "disable", "Contact", "--name", "prod"])
    assert done.exit_code == 0, done.output
    said = " ".join(done.output.split())
    assert "step 'Contact' disabled" in said
    assert "no integration named 'prod' is connected" in said
    assert "peoplesync salesforce connect --name prod" in said
