"""The messaging services the web pages and the REST API share, and how they show a message,
its trail and a provider account."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.exceptions import HTTPException

from peoplesync.errors import NotFoundError
from peoplesync.messaging.accounts import AccountInfo, ProviderAccounts
from peoplesync.messaging.message_list import message_json
from peoplesync.messaging.outbox import Outbox
from peoplesync.messaging.queued_message import QueuedMessage
from peoplesync.messaging.sender_names import SenderNames

# Trail events that end a message's course badly: shown with the provider's error.
FAILED_KINDS = frozenset({"rejected", "undeliverable", "expired", "invalid"})


@dataclass(frozen=True)
class MessagingWeb:
    """The outbox, the sender names and (with a secret box to seal keys) the accounts."""

    engine: AsyncEngine
    outbox: Outbox
    senders: SenderNames
    accounts: ProviderAccounts | None


def messaging_of(request: Request) -> MessagingWeb:
    found: MessagingWeb = request.app.state.messaging
    return found


def accounts_of(request: Request) -> ProviderAccounts:
    """The provider accounts; 503 when the app was built without a key to seal API keys."""
    accounts = messaging_of(request).accounts
    if accounts is None:
        raise HTTPException(503, "provider accounts need a secret key: run peoplesync serve")
    return accounts


async def account_named(accounts: ProviderAccounts, name: str) -> AccountInfo:
    """One account by name; NotFoundError naming it otherwise."""
    for account in await accounts.list():
        if account.name == name:
            return account
    raise NotFoundError(
        f"no provider account {name!r}",
        record=name,
        field="name",
        hint="see the provider accounts (Messaging -> Providers)",
    )


async def message_with_trail(outbox: Outbox, message_id: str) -> tuple[QueuedMessage, list[Any]]:
    """A message and its events, oldest first; NotFoundError when there is no such message."""
    message = await outbox.get(message_id) if len(message_id) <= 64 else None
    if message is None:
        raise NotFoundError(
            "no message has this id",
            record=message_id[:64],
            field="message_id",
            hint="see the recent messages (/messages)",
        )
    return message, await outbox.events(message_id)


def provider_error(message: QueuedMessage, events: list[dict[str, Any]]) -> str | None:
    """The provider's (or the channel rules') reason a message failed, if it failed."""
    for event in reversed(events):
        if event["kind"] not in FAILED_KINDS:
            continue
        detail = event.get("detail") or {}
        error = detail.get("error")
        if error and error != "NO_ERROR":
            described = detail.get("errorDescription")
            return f"{error}: {described}" if described else str(error)
        return str(detail.get("description") or detail.get("detail") or message.detail or "")
    return None


def message_details_json(message: QueuedMessage, events: list[dict[str, Any]]) -> dict[str, Any]:
    """A message with its request, trail and error in the REST API."""
    return message_json(message) | {
        "request": message.request,
        "error": provider_error(message, events),
        "events": events,
    }


def account_json(account: AccountInfo, senders: dict[str, list[str]]) -> dict[str, Any]:
    """A provider account in the REST API: never its key."""
    return {
        "name": account.name,
        "kind": account.kind,
        "base_url": account.base_url,
        "created_at": account.created_at.isoformat(),
        "senders": senders,
    }


__all__ = [
    "MessagingWeb",
    "account_json",
    "account_named",
    "accounts_of",
    "message_details_json",
    "message_with_trail",
    "messaging_of",
    "provider_error",
]
