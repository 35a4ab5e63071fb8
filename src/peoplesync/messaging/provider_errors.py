"""Provider failures, on the branches of peoplesync's one exception tree."""

from __future__ import annotations

from peoplesync.errors import RetryableError, StopError


class ProviderUnavailableError(RetryableError):
    """The provider answered 429 or 5xx, or could not be reached, after every retry."""


class ProviderAuthError(StopError):
    """The provider refused the account's API key (401/403): sending stops until it is fixed."""

    hint = (
        "check the account's API key and base URL; to change the key: peoplesync providers "
        "remove NAME, then providers add NAME again, and restart the send worker"
    )
