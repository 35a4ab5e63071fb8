"""Secrets at rest: tokens and client secrets are stored encrypted (Fernet, AES-128 + HMAC).

The key comes from ``PEOPLESYNC_SECRET_KEY`` or, by default, from ``secret.key`` in the data
directory, created on first use with owner-only permissions. Losing the key means
reconnecting integrations; it never appears in logs or errors.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from peoplesync.errors import ConfigurationError


class SecretBox:
    """Encrypts and decrypts short secrets with one key."""

    def __init__(self, key: bytes) -> None:
        try:
            self._fernet = Fernet(key)
            self._key = bytes(key)
        except ValueError:
            raise ConfigurationError(
                "the secret key is not a valid Fernet key",
                hint="generate one with: python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'",
            ) from None

    @classmethod
    def from_data_dir(cls, data_dir: Path, configured: str | None = None) -> SecretBox:
        """The configured key, else the data directory's key file (created when missing)."""
        if configured:
            return cls(configured.encode())
        path = data_dir / "secret.key"
        if not path.exists():
            data_dir.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(Fernet.generate_key())
        return cls(path.read_bytes().strip())

    def seal(self, secret: str) -> str:
        """The encrypted form of ``secret`` (text, safe to store)."""
        return self._fernet.encrypt(secret.encode()).decode()

    def open(self, sealed: str) -> str:
        """The secret back; ConfigurationError when it was sealed with another key."""
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken:
            raise ConfigurationError(
                "a stored secret cannot be decrypted with the current key",
                hint="restore the original secret key, or reconnect the integration",
            ) from None

    def derive(self, purpose: str) -> str:
        """A token for ``purpose``, derived from the key (HMAC-SHA256, hex): the same key and
        purpose always give the same token, so nothing new is stored; never log it."""
        return hmac.new(self._key, purpose.encode(), hashlib.sha256).hexdigest()

    def __repr__(self) -> str:
        return "SecretBox(<key hidden>)"
