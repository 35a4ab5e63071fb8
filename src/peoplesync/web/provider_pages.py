"""Messaging -> Providers: the provider accounts (list, add, remove) and each account's sender
names per channel. An API key is sealed at rest and never shown or sent back to the form."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from peoplesync.errors import ConfirmationRequiredError, NotFoundError, RecordError
from peoplesync.messaging.channels.catalog import Channel
from peoplesync.web.access import AdminSession, Context, PageSession, WebContext
from peoplesync.web.accounts import WebSession
from peoplesync.web.messaging_view import account_named, accounts_of, messaging_of
from peoplesync.web.pages import render

router = APIRouter()
ACCOUNT_FIELDS = ("name", "base_url", "api_key")
# The Infobip app's configuration screen names these sender fields; every channel may have some.
SEED_SENDER_CHANNELS = ("sms", "viber", "kakao-alim", "rcs", "zalo")


def _field_errors(error: RecordError | None, fields: tuple[str, ...]) -> tuple[dict[str, str], str]:
    """The error next to its field when the form has that field, else as a general message."""
    if error is None:
        return {}, ""
    if error.field in fields:
        hint = f" ({error.hint_on_web})" if error.hint_on_web else ""
        return {error.field: error.detail + hint}, ""
    return {}, str(error)


async def _list_page(
    request: Request,
    web: WebContext,
    session: WebSession,
    values: dict[str, str],
    error: RecordError | None = None,
    notice: str = "",
) -> HTMLResponse:
    accounts = accounts_of(request)
    shown = []
    for account in await accounts.list():
        senders = await messaging_of(request).senders.of(account.name)
        shown.append((account, senders, await accounts.waiting(account.name)))
    errors, general = _field_errors(error, ACCOUNT_FIELDS)
    return render(
        web,
        request,
        "providers.html",
        session,
        422 if error else 200,
        accounts=shown,
        values=values,
        errors=errors,
        general_error=general,
        notice=notice,
    )


@router.get("/messaging/providers", include_in_schema=False)
async def providers(
    request: Request,
    web: Context,
    session: PageSession,
    removed: Annotated[str | None, Query(max_length=100)] = None,
) -> HTMLResponse:
    """Every provider account and the form to add one."""
    notice = f"Provider account “{removed}” removed." if removed else ""
    return await _list_page(request, web, session, {"base_url": "https://"}, notice=notice)


@router.post("/messaging/providers", include_in_schema=False)
async def add_provider(request: Request, web: Context, session: AdminSession) -> Response:
    """Store the account (its key sealed), or show the form again with the field at fault."""
    form = await request.form()
    values = {key: str(form.get(key, ""))[:1000] for key in ACCOUNT_FIELDS}
    try:
        await accounts_of(request).add(values["name"], values["base_url"], values["api_key"])
    except RecordError as error:
        values.pop("api_key")  # never sent back
        return await _list_page(request, web, session, values, error)
    return RedirectResponse(f"/messaging/providers/{quote(values['name'], safe='')}", 303)


async def _account_page(
    request: Request,
    web: WebContext,
    session: WebSession,
    name: str,
    *,
    error: RecordError | None = None,
    values: dict[str, str] | None = None,
    notice: str = "",
) -> HTMLResponse:
    accounts = accounts_of(request)
    account = await account_named(accounts, name)
    senders = await messaging_of(request).senders.of(name)
    errors, general = _field_errors(error, ("channel", "sender"))
    confirm = error if isinstance(error, ConfirmationRequiredError) else None
    return render(
        web,
        request,
        "provider.html",
        session,
        (409 if confirm else 422) if error else 200,
        account=account,
        senders=senders,
        waiting=await accounts.waiting(name),
        channels=[
            *SEED_SENDER_CHANNELS,
            *(c.value for c in Channel if c.value not in SEED_SENDER_CHANNELS),
        ],
        values=values or {"channel": "sms"},
        errors=errors,
        general_error="" if confirm else general,
        confirm=confirm,
        notice=notice,
    )


@router.get("/messaging/providers/{name}", include_in_schema=False)
async def provider(
    request: Request,
    web: Context,
    session: PageSession,
    name: str,
    added: Annotated[str | None, Query(max_length=50)] = None,
) -> HTMLResponse:
    """One account: its base URL, sender names per channel, remove."""
    notice = f"Sender name “{added}” added." if added else ""
    return await _account_page(request, web, session, name, notice=notice)


@router.post("/messaging/providers/{name}/remove", include_in_schema=False)
async def remove_provider(
    request: Request, web: Context, session: AdminSession, name: str
) -> Response:
    """Remove the account; while messages wait to be sent through it, ask to confirm."""
    form = await request.form()
    accounts = accounts_of(request)
    await account_named(accounts, name)
    try:
        await accounts.remove(name, force=form.get("confirm") == "1")
    except ConfirmationRequiredError as error:
        return await _account_page(request, web, session, name, error=error)
    return RedirectResponse(f"/messaging/providers?removed={quote(name, safe='')}", 303)


@router.post("/messaging/providers/{name}/senders", include_in_schema=False)
async def add_sender(request: Request, web: Context, session: AdminSession, name: str) -> Response:
    """Add a sender name to one of the account's channels."""
    form = await request.form()
    values = {key: str(form.get(key, ""))[:200] for key in ("channel", "sender")}
    await account_named(accounts_of(request), name)
    try:
        await messaging_of(request).senders.add(name, values["channel"], values["sender"])
    except RecordError as error:
        if isinstance(error, NotFoundError):
            raise
        return await _account_page(request, web, session, name, error=error, values=values)
    target = f"/messaging/providers/{quote(name, safe='')}?added={quote(values['sender'])}"
    return RedirectResponse(target, 303)


@router.post("/messaging/providers/{name}/senders/remove", include_in_schema=False)
async def remove_sender(
    request: Request, web: Context, session: AdminSession, name: str
) -> Response:
    """Remove one sender name."""
    form = await request.form()
    channel, sender = str(form.get("channel", ""))[:20], str(form.get("sender", ""))[:50]
    if not await messaging_of(request).senders.remove(name, channel, sender):
        raise NotFoundError(f"{name!r} has no {channel} sender {sender!r}", record=name)
    return RedirectResponse(f"/messaging/providers/{quote(name, safe='')}", 303)


__all__ = ["router"]
