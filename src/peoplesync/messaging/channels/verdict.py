"""A message's validation outcome, and the signal checks raise inside this package."""

from __future__ import annotations

from dataclasses import dataclass

from peoplesync.messaging.channels.message_status import MessageStatus


@dataclass(frozen=True)
class Verdict:
    """The journey's ``messageStatus``, the request field at fault and what to do about it."""

    status: MessageStatus
    field: str | None = None
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.status is MessageStatus.PENDING


PENDING = Verdict(MessageStatus.PENDING)


class Invalid(Exception):
    """Raised by a check; ``validate_message`` turns it into the verdict it carries."""

    def __init__(self, status: MessageStatus, field: str, detail: str) -> None:
        super().__init__(detail)
        self.verdict = Verdict(status, field, detail)


def is_url(value: object) -> bool:
    """An absolute http(s) address."""
    return isinstance(value, str) and value.startswith(("https://", "http://")) and len(value) > 8
