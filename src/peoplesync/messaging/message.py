"""A message on its way to a provider: our id, its channel, recipient and validated request."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from peoplesync.messaging.channels.catalog import Channel


@dataclass(frozen=True)
class Message:
    """One message to one recipient.

    ``message_id`` is ours, made before the provider is called and sent along with the
    message, so that a retried request can never become a second message.
    """

    message_id: str
    channel: Channel
    to: str  # digits, country code first
    request: Mapping[str, object]  # the validated request (see channels.validation)
    callback_data: str | None = None


@dataclass(frozen=True)
class Webhooks:
    """Where the provider reports back for a batch of messages."""

    delivery_url: str | None = None
    seen_url: str | None = None
    inbound_url: str | None = None  # configured at the provider per number, not per message
    click_url: str | None = None  # the provider's click reports, when it shortens and tracks
    headers: Mapping[str, str] = field(default_factory=dict)


class Outcome(StrEnum):
    """What the provider said about one message when it was sent."""

    ACCEPTED = "accepted"  # taken; reports follow
    REJECTED = "rejected"  # refused for good; the error says why


@dataclass(frozen=True)
class SendResult:
    """The provider's answer for one message."""

    message_id: str
    outcome: Outcome
    status_group: str  # PENDING, REJECTED, ...
    status_name: str  # PENDING_ACCEPTED, REJECTED_DESTINATION, ...
    description: str = ""
    provider_bulk_id: str | None = None
    parts: int | None = None
