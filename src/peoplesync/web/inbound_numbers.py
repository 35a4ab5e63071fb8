"""A provider account's inbound numbers, on the web and the REST API: whether a number's
replies reach peoplesync, and the one action its state allows (create, remove, use default).

The number's replies are forwarded to the account's inbound hook under peoplesync's public
URL (``PEOPLESYNC_PUBLIC_URL``); without one the address this request came to is used, and
the page says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote, urlencode

import httpx
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from peoplesync.errors import RecordError
from peoplesync.messaging.inbound_number_service import InboundNumberRequest, inbound_number
from peoplesync.messaging.inbound_numbers import CONFIG_CHANNELS, Action, NumberStatus
from peoplesync.secret_box import SecretBox
from peoplesync.web.access import (
    AdminSession,
    ApiAdmin,
    ApiUser,
    Context,
    PageSession,
    WebContext,
)
from peoplesync.web.accounts import WebSession
from peoplesync.web.messaging_view import account_named, accounts_of
from peoplesync.web.pages import render

pages = APIRouter()
api = APIRouter(tags=["messaging"])
AccountName = Annotated[str, Path(max_length=100, description="A provider account's name")]
NumberPath = Annotated[str, Path(max_length=30, description="The number, e.g. 385981000123")]
ChannelQuery = Annotated[str, Query(max_length=20, description="sms, mms, rcs, viber, whatsapp")]
STATE_TEXT = {
    "not_configured": "No inbound configuration: replies to this number do not reach peoplesync.",
    "ours": "Replies to this number are forwarded to peoplesync.",
    "elsewhere": "Replies to this number go to another application.",
}
ACTION_TEXT = {
    "create": "Create configuration",
    "remove": "Remove configuration",
    "use-default": "Use default configuration (reassign to peoplesync)",
}


@dataclass
class InboundNumbersWeb:
    box: SecretBox
    public_url: str | None
    http: httpx.AsyncClient | None = None  # None: a client per call (tests put one here)


def _public_url(request: Request) -> tuple[str, bool]:
    """peoplesync's public URL, and whether it is only this request's address."""
    configured: InboundNumbersWeb = request.app.state.inbound_numbers
    if configured.public_url:
        return configured.public_url, False
    return str(request.base_url).rstrip("/"), True


async def _status(
    request: Request, name: str, number: str, channel: str, action: Action | None = None
) -> NumberStatus:
    accounts = accounts_of(request)
    await account_named(accounts, name)
    configured: InboundNumbersWeb = request.app.state.inbound_numbers
    public_url, _ = _public_url(request)
    asked = InboundNumberRequest(name, number, channel, action)
    return await inbound_number(accounts, configured.box, public_url, asked, http=configured.http)


async def _page(
    request: Request,
    web: WebContext,
    session: WebSession,
    name: str,
    number: str,
    channel: str,
    *,
    error: RecordError | None = None,
    notice: str = "",
) -> HTMLResponse:
    account = await account_named(accounts_of(request), name)
    status: NumberStatus | None = None
    if number:
        try:
            status = await _status(request, name, number, channel)
        except RecordError as exc:
            error = error or exc
    _, guessed = _public_url(request)
    return render(
        web,
        request,
        "inbound_number.html",
        session,
        422 if error else 200,
        account=account,
        number=number,
        channel=channel,
        channels=list(CONFIG_CHANNELS),
        status=status.as_json() if status else None,
        state_text=STATE_TEXT,
        action_text=ACTION_TEXT,
        error=error,
        guessed_url=guessed,
        notice=notice,
    )


@pages.get("/messaging/providers/{name}/inbound", include_in_schema=False)
async def inbound_page(
    request: Request,
    web: Context,
    session: PageSession,
    name: str,
    number: Annotated[str, Query(max_length=30)] = "",
    channel: Annotated[str, Query(max_length=20)] = "sms",
    done: Annotated[str | None, Query(max_length=20)] = None,
) -> HTMLResponse:
    """Check a number: its state at the provider and the action it allows."""
    notice = f"Done: {ACTION_TEXT.get(done, done)}." if done else ""
    return await _page(request, web, session, name, number, channel, notice=notice)


@pages.post("/messaging/providers/{name}/inbound", include_in_schema=False)
async def inbound_action(
    request: Request, web: Context, session: AdminSession, name: str
) -> Response:
    """Take the action the number's state allows, then show the number again."""
    form = await request.form()
    number, channel = str(form.get("number", ""))[:30], str(form.get("channel", "sms"))[:20]
    try:
        action = Action(str(form.get("action", "")))
        await _status(request, name, number, channel, action)
    except ValueError:
        refused = RecordError("choose an action", record=number or None, field="action")
        return await _page(request, web, session, name, number, channel, error=refused)
    except RecordError as error:
        return await _page(request, web, session, name, number, channel, error=error)
    query = urlencode({"number": number, "channel": channel, "done": action.value})
    return RedirectResponse(f"/messaging/providers/{quote(name, safe='')}/inbound?{query}", 303)


class InboundAction(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Action = Field(description="The action the number's state allows")
    channel: str = Field("sms", max_length=20)


@api.get("/provider-accounts/{name}/inbound-numbers/{number}")
async def inbound_number_status(
    request: Request,
    _user: ApiUser,
    name: AccountName,
    number: NumberPath,
    channel: ChannelQuery = "sms",
) -> dict[str, Any]:
    """The number's inbound state at the provider and the action it allows."""
    return (await _status(request, name, number, channel)).as_json()


@api.post("/provider-accounts/{name}/inbound-numbers/{number}")
async def inbound_number_change(
    request: Request, _user: ApiAdmin, name: AccountName, number: NumberPath, body: InboundAction
) -> dict[str, Any]:
    """Take an action (admins only); one that does not fit the number's state answers 409
    naming the action that does."""
    return (await _status(request, name, number, body.channel, body.action)).as_json()


__all__ = ["InboundNumbersWeb", "api", "pages"]
