"""One message an operator sends by hand (CLI, web form, REST API): its request with the
channel's defaults and the account's sender name, checked by the same channel rules a
journey's messages meet, then queued. A refusal carries the seed's ``messageStatus`` text."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from peoplesync.errors import ValidationError
from peoplesync.messaging.accounts import ProviderAccounts
from peoplesync.messaging.outbox import Enqueued, MessageDraft, Outbox
from peoplesync.messaging.sender_names import SenderNames, with_default_sender
from peoplesync.messaging.speed_limit import SpeedLimit
from peoplesync.people.model import new_id

# Channels whose requests must say whether to shorten and track URLs; an operator's message
# does neither unless asked (seed 002's table: "Missing trackClicks flag" otherwise).
TRACKING_FLAG_CHANNELS = ("sms", "lms", "viber", "whatsapp")


class MessageRefusedError(ValidationError):
    """The message breaks its channel's rules; ``message_status`` is the journey's text."""

    code = "MESSAGE_REFUSED"

    def __init__(self, message_status: str, *, record: str, field: str | None, hint: str) -> None:
        super().__init__(message_status, record=record, field=field, hint=hint)
        self.message_status = message_status


@dataclass(frozen=True)
class SendRequest:
    """What an operator asks to send."""

    channel: str
    to: str
    text: str | None = None
    sender: str | None = None  # ``from``; empty: the account's first sender name
    account: str = "main"
    extra: Mapping[str, Any] = field(default_factory=dict)  # more request fields
    key: str | None = None  # idempotency key; none: a new message every time
    person_id: str | None = None

    def request(self) -> dict[str, Any]:
        """The channel request: ``to``, ``text``, ``from``, defaults, then ``extra``."""
        built: dict[str, Any] = {"to": self.to}
        if self.channel in TRACKING_FLAG_CHANNELS:
            built |= {"shortenUrl": False, "trackClicks": False}
        if self.channel == "viber":
            built["isPromotional"] = False
        if self.text is not None:
            built["text"] = self.text
        if self.sender:
            built["from"] = self.sender
        return built | dict(self.extra)


async def queue_send(
    outbox: Outbox,
    accounts: ProviderAccounts,
    senders: SenderNames,
    send: SendRequest,
    *,
    limit: SpeedLimit | None = None,
    limit_key: str | None = None,
) -> Enqueued:
    """Queue the message, or raise: ValidationError naming ``account`` when there is no such
    account or ``person_id`` when People has no such person, MessageRefusedError (field and
    ``messageStatus``) when the channel refuses it. A refused message is not stored."""
    known = {account.name for account in await accounts.list()}
    record = send.key or f"message to {send.to}"
    if send.account not in known:
        raise ValidationError(
            f"no provider account {send.account!r}",
            record=record,
            field="account",
            hint="add one first (Messaging -> Providers, or peoplesync providers add)"
            if not known
            else f"use one of: {', '.join(sorted(known))}",
        )
    if send.person_id is not None and not await outbox.person_exists(send.person_id):
        raise ValidationError(
            f"no person has the id {send.person_id!r}",
            record=record,
            field="person_id",
            hint="give the id of a person in People, or none: the message then goes on the "
            "timeline of the persons with this phone number",
        )
    request = with_default_sender(send.channel, send.request(), await senders.of(send.account))
    verdict = outbox.check(send.channel, request)  # with short links, as it will be sent
    if not verdict.ok:
        raise MessageRefusedError(
            verdict.status.value, record=record, field=verdict.field, hint=verdict.detail
        )
    draft = MessageDraft(
        send.key or f"operator:{new_id()}",
        send.account,
        send.channel,
        request,
        person_id=send.person_id,
    )
    [queued] = await outbox.enqueue([draft], limit=limit, limit_key=limit_key)
    return queued


__all__ = ["MessageRefusedError", "SendRequest", "queue_send"]
