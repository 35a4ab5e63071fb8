"""Secrets at rest."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from peoplesync.errors import ConfigurationError
from peoplesync.secret_box import SecretBox
from peoplesync.settings import Settings


def test_round_trip_and_key_file(tmp_path: Path) -> None:
    box = SecretBox.from_data_dir(tmp_path / "data")
    sealed = box.seal("refresh-token-123")
    assert "refresh-token-123" not in sealed
    assert box.open(sealed) == "refresh-token-123"
    key_file = tmp_path / "data" / "secret.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    again = SecretBox.from_data_dir(tmp_path / "data")  # same key on the next start
    assert again.open(sealed) == "refresh-token-123"
    assert "key" in repr(box)
    assert key_file.read_text() not in repr(box)


def test_another_key_cannot_open_and_says_how_to_fix(tmp_path: Path) -> None:
    sealed = SecretBox.from_data_dir(tmp_path).seal("s3cret")
    other = SecretBox(Fernet.generate_key())
    with pytest.raises(ConfigurationError, match="reconnect the integration") as caught:
        other.open(sealed)
    assert "s3cret" not in str(caught.value)
    with pytest.raises(ConfigurationError, match="Fernet"):
        SecretBox(b"not a key")


def test_configured_key_wins_and_is_not_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = Fernet.generate_key().decode()
    monkeypatch.setenv("PEOPLESYNC_SECRET_KEY", key)
    settings = Settings(data_dir=tmp_path)
    assert key not in repr(settings)
    box = SecretBox.from_data_dir(settings.data_dir, settings.secret_key)
    assert SecretBox(key.encode()).open(box.seal("x")) == "x"
    assert not (tmp_path / "secret.key").exists()
