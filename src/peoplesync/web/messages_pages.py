"""Messages: recent sends with filters (channel, status, number), one message with its report
trail and the provider's error, and a form to send a message of any channel by hand (a
channel picker, then that channel's fields; see ``send_form``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from peoplesync.errors import RecordError
from peoplesync.messaging.channels.catalog import Channel
from peoplesync.messaging.message_list import STATES, MessageFilter, list_messages, persons_of
from peoplesync.messaging.send_request import MessageRefusedError, SendRequest, queue_send
from peoplesync.web.access import AdminSession, Context, PageSession, WebContext
from peoplesync.web.accounts import WebSession
from peoplesync.web.error_bodies import record_status
from peoplesync.web.messaging_view import (
    accounts_of,
    message_with_trail,
    messaging_of,
    provider_error,
)
from peoplesync.web.pages import render
from peoplesync.web.send_form import (
    CHANNELS,
    FIELDS,
    LABELS,
    TOKEN,
    field_at_fault,
    form_values,
    idempotency_key,
    new_token,
    request_of,
    senders_for,
)

router = APIRouter()
PAGE_SIZE = 50


@router.get("/messages", include_in_schema=False)
async def messages(
    request: Request,
    web: Context,
    session: PageSession,
    channel: Annotated[str, Query(max_length=20)] = "",
    state: Annotated[str, Query(max_length=20)] = "",
    number: Annotated[str, Query(max_length=40)] = "",
    after: Annotated[str | None, Query(max_length=64)] = None,
    sent: Annotated[str | None, Query(max_length=64)] = None,
) -> HTMLResponse:
    """Recent messages, newest first, filtered by channel, status and recipient number."""
    wanted = MessageFilter(channel, state, number)
    error: RecordError | None = None
    try:
        page = await list_messages(
            messaging_of(request).engine, wanted, after=after, limit=PAGE_SIZE
        )
    except RecordError as problem:
        error, page = problem, None
    return render(
        web,
        request,
        "messages.html",
        session,
        record_status(error) if error else 200,
        page=page,
        wanted=wanted,
        after=after,
        error=error,
        sent=sent,
        channels=[c.value for c in Channel],
        states=STATES,
    )


async def _send_page(
    request: Request,
    web: WebContext,
    session: WebSession,
    values: dict[str, str],
    error: RecordError | None = None,
) -> HTMLResponse:
    accounts = await accounts_of(request).list()
    senders = {a.name: await messaging_of(request).senders.of(a.name) for a in accounts}
    channel = values["channel"] if values.get("channel") in CHANNELS else "sms"
    errors: dict[str, str] = {}
    general = ""
    if error is not None:
        field = error.field if error.field and error.field.startswith(f"{channel}-") else None
        field = field or field_at_fault(channel, error.field)
        message = error.hint if isinstance(error, MessageRefusedError) else error.detail
        if field is None:
            general = message if isinstance(error, MessageRefusedError) else str(error)
        elif isinstance(error, MessageRefusedError):  # the seed's text, beside its field
            errors[field] = f"{error.message_status}: {message}" if message else error.message
        else:
            errors[field] = message or error.detail
    values = values | {TOKEN: values.get(TOKEN) or new_token()}  # kept when shown again
    return render(
        web,
        request,
        "message_send.html",
        session,
        422 if error else 200,
        values=values,
        errors=errors,
        general_error=general,
        message_status=error.message_status if isinstance(error, MessageRefusedError) else "",
        accounts=accounts,
        senders=senders,
        channel_senders=senders_for(senders, channel),
        channel=channel,
        channel_label=LABELS[channel],
        fields=FIELDS[channel],
        channels=[(c, LABELS[c]) for c in CHANNELS],
    )


@router.get("/messages/send", include_in_schema=False)
async def send_form(
    request: Request,
    web: Context,
    session: PageSession,
    to: Annotated[str, Query(max_length=40)] = "",
    person: Annotated[str, Query(max_length=32)] = "",
    channel: Annotated[str, Query(max_length=20)] = "sms",
) -> HTMLResponse:
    """The send form: a channel picker, then the chosen channel's fields."""
    values = {"channel": channel, "to": to, "person_id": person}
    return await _send_page(request, web, session, values)


@router.post("/messages/send", include_in_schema=False)
async def send(request: Request, web: Context, session: AdminSession) -> Response:
    """Check the message by the channel's rules and queue it, or show the form again with the
    ``messageStatus`` and the field at fault. The form's token is the message's idempotency
    key: submitting the same form again (a double click, a resend) shows the first message."""
    values = form_values(await request.form())
    channel = values["channel"][:20] or "sms"
    try:
        text, extra = request_of(channel, values)
        send = SendRequest(
            channel,
            values["to"].strip(),
            text,
            values["from"].strip() or None,
            values["account"],
            extra,
            key=idempotency_key(values),
            person_id=values["person_id"] or None,
        )
        queued = await queue_send(
            messaging_of(request).outbox, accounts_of(request), messaging_of(request).senders, send
        )
    except RecordError as error:
        return await _send_page(request, web, session, values, error)
    return RedirectResponse(f"/messages/{queued.message_id}?queued=1", status_code=303)


@router.get("/messages/{message_id}", include_in_schema=False)
async def message_page(
    request: Request,
    web: Context,
    session: PageSession,
    message_id: str,
    queued: Annotated[str | None, Query(max_length=1)] = None,
) -> HTMLResponse:
    """One message: what was sent, to whom, its state and its trail of reports."""
    message, events = await message_with_trail(messaging_of(request).outbox, message_id)
    persons = await persons_of(messaging_of(request).engine, [message])
    return render(
        web,
        request,
        "message.html",
        session,
        message=message,
        events=events,
        error=provider_error(message, events),
        person=persons.get(message.id),
        queued=bool(queued),
    )


__all__ = ["router"]
