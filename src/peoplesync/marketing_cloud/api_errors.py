"""Marketing Cloud API failures, as branches of peoplesync's one exception tree."""

from __future__ import annotations

from peoplesync.errors import RecordError, RetryableError, StopError


class MarketingCloudAuthError(StopError):
    """The business unit's credentials were refused (wrong id/secret/MID, package removed)."""

    hint = "check the installed package's client id, client secret and the MID"


class MarketingCloudUnavailableError(RetryableError):
    """Marketing Cloud kept answering 5xx, 429 or not at all; try again later."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class MarketingCloudRequestError(RecordError):
    """Marketing Cloud refused a request as wrong (400/404): the rows or definition sent."""

    code = "MARKETING_CLOUD_REFUSED"

    def __init__(
        self, message: str, *, record: str | None = None, field: str | None = None, status: int
    ) -> None:
        super().__init__(message, record=record, field=field)
        self.status = status
