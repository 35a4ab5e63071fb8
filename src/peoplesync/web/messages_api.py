"""REST twins of the Messages pages and provider settings: messages (list, send, one with its
trail) and provider accounts with their sender names. Same auth and error body as /api/v1."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from peoplesync.errors import NotFoundError
from peoplesync.messaging.message_list import MAX_PAGE, MessageFilter, list_messages, message_json
from peoplesync.messaging.send_request import MessageRefusedError, SendRequest, queue_send
from peoplesync.web.access import ApiAdmin, ApiUser
from peoplesync.web.api import ErrorResponse
from peoplesync.web.error_bodies import from_error
from peoplesync.web.messaging_view import (
    account_json,
    account_named,
    accounts_of,
    message_details_json,
    message_with_trail,
    messaging_of,
)

router = APIRouter(
    tags=["messaging"],
    responses={
        503: {
            "model": ErrorResponse,
            "description": "Provider accounts need a secret key (an app started otherwise)",
        }
    },
)
AccountName = Annotated[str, Path(max_length=100, description="A provider account's name")]


class MessageSend(BaseModel):
    """One message to queue; the send worker sends it."""

    model_config = ConfigDict(extra="forbid")

    channel: str = Field("sms", max_length=20, examples=["sms"])
    to: str = Field(max_length=40, examples=["+385911234567"])
    text: str | None = Field(None, max_length=20_000, examples=["Hello from peoplesync"])
    sender: str | None = Field(
        None,
        alias="from",
        max_length=50,
        description="Sender name; empty: the account's first sender name for the channel",
    )
    account: str = Field("main", max_length=100)
    request: dict[str, Any] = Field(
        default_factory=dict, description="More request fields of the channel (docs/messaging.md)"
    )
    idempotency_key: str | None = Field(
        None, max_length=200, description="The same key is queued once"
    )
    person_id: str | None = Field(None, max_length=32)


class AccountCreate(BaseModel):
    """A provider account; the API key is sealed at rest and never shown again."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=100, examples=["main"])
    kind: str = Field("infobip", max_length=20)
    base_url: str = Field(max_length=500, examples=["https://xxxx.api.infobip.com"])
    api_key: str = Field(max_length=500)


class SenderCreate(BaseModel):
    """A sender name of one channel."""

    model_config = ConfigDict(extra="forbid")

    channel: str = Field(max_length=20, examples=["sms"])
    sender: str = Field(max_length=50, examples=["InfoSMS"])


@router.get("/messages")
async def messages(
    request: Request,
    _user: ApiUser,
    channel: Annotated[str, Query(max_length=20)] = "",
    state: Annotated[str, Query(max_length=20)] = "",
    number: Annotated[str, Query(max_length=40, description="Part of the number")] = "",
    after: Annotated[str | None, Query(max_length=64, description="Cursor")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
) -> dict[str, Any]:
    """Recent messages, newest first, by channel, state and recipient number; keyset pages."""
    found = await list_messages(
        messaging_of(request).engine,
        MessageFilter(channel, state, number),
        after=after,
        limit=limit,
    )
    items = []
    for message in found.items:
        person = found.persons.get(message.id)
        items.append(message_json(message) | {"person_id": person.id if person else None})
    return {"items": items, "next": found.next}


@router.post(
    "/messages",
    status_code=201,
    responses={200: {"description": "The idempotency key is known: the message queued then"}},
)
async def send_message(request: Request, _user: ApiAdmin, body: MessageSend) -> JSONResponse:
    """Queue a message (admins only). Channel rules refuse it with 422, the seed's
    ``messageStatus`` text as the message and the request field at fault."""
    services = messaging_of(request)
    send = SendRequest(
        body.channel,
        body.to,
        body.text,
        body.sender,
        body.account,
        body.request,
        body.idempotency_key,
        body.person_id,
    )
    try:
        queued = await queue_send(services.outbox, accounts_of(request), services.senders, send)
    except MessageRefusedError as refused:
        error = from_error(refused)
        return JSONResponse(
            error.json() | {"messageStatus": refused.message_status}, status_code=error.status
        )
    message, events = await message_with_trail(services.outbox, queued.message_id)
    shown = message_details_json(message, events) | {"duplicate": queued.duplicate}
    return JSONResponse(shown, status_code=200 if queued.duplicate else 201)


@router.get("/messages/{message_id}")
async def message(
    request: Request, _user: ApiUser, message_id: Annotated[str, Path(max_length=64)]
) -> dict[str, Any]:
    """A message with its request, its trail (queued, sent, delivered, seen, ...) and the
    provider's error if it failed."""
    found, events = await message_with_trail(messaging_of(request).outbox, message_id)
    return message_details_json(found, events)


@router.get("/provider-accounts")
async def provider_accounts(request: Request, _user: ApiUser) -> dict[str, Any]:
    """Provider accounts with their sender names (never their keys)."""
    senders = messaging_of(request).senders
    return {
        "items": [
            account_json(account, await senders.of(account.name))
            for account in await accounts_of(request).list()
        ]
    }


@router.post("/provider-accounts", status_code=201)
async def add_provider_account(
    request: Request, _user: ApiAdmin, body: AccountCreate
) -> dict[str, Any]:
    """Add a provider account (admins only); a bad or taken field answers 422 naming it."""
    accounts = accounts_of(request)
    await accounts.add(body.name, body.base_url, body.api_key, body.kind)
    return account_json(await account_named(accounts, body.name), {})


@router.delete("/provider-accounts/{name}")
async def remove_provider_account(
    request: Request,
    _user: ApiAdmin,
    name: AccountName,
    force: Annotated[bool, Query(description="Even with messages waiting to be sent")] = False,
) -> dict[str, Any]:
    """Remove an account and its sender names (admins only); 409 while messages wait to be
    sent through it, unless ``force``."""
    accounts = accounts_of(request)
    await account_named(accounts, name)
    removed = await accounts.remove(name, force=force)
    return {"name": name, "removed": removed}


@router.get("/provider-accounts/{name}/senders")
async def senders(request: Request, _user: ApiUser, name: AccountName) -> dict[str, list[str]]:
    """The account's sender names by channel (the first is used when a message has none)."""
    await account_named(accounts_of(request), name)
    return await messaging_of(request).senders.of(name)


@router.post("/provider-accounts/{name}/senders", status_code=201)
async def add_sender(
    request: Request, _user: ApiAdmin, name: AccountName, body: SenderCreate
) -> dict[str, list[str]]:
    """Add a sender name (admins only)."""
    names = messaging_of(request).senders
    await names.add(name, body.channel, body.sender)
    return await names.of(name)


@router.delete("/provider-accounts/{name}/senders/{channel}/{sender}")
async def remove_sender(
    request: Request,
    _user: ApiAdmin,
    name: AccountName,
    channel: Annotated[str, Path(max_length=20)],
    sender: Annotated[str, Path(max_length=50)],
) -> dict[str, list[str]]:
    """Remove a sender name (admins only)."""
    names = messaging_of(request).senders
    if not await names.remove(name, channel, sender):
        raise NotFoundError(
            f"{name!r} has no {channel} sender {sender!r}", record=name, field="sender"
        )
    return await names.of(name)


__all__ = ["router"]
