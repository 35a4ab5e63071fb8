"""Infobip request bodies for a batch of messages. Pure: messages in, (path, body) out.

Messages of one channel go in one request, except that URL tracking options are set once
per request: messages with different tracking settings go in separate requests.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from peoplesync.messaging.channels.catalog import Channel
from peoplesync.messaging.message import Message, Webhooks
from peoplesync.messaging.providers.infobip.content import CONTENT, message_options

JsonObject = dict[str, Any]

PATHS: Mapping[Channel, str] = {
    Channel.SMS: "/sms/3/messages",
    Channel.LMS: "/sms/3/messages",
    Channel.MMS: "/mms/2/messages",
    Channel.RCS: "/rcs/2/messages",
    Channel.VIBER: "/viber/2/messages",
    Channel.WHATSAPP: "/whatsapp/1/message/template",
    Channel.KAKAO_ALIM: "/kakao-alim/1/messages",
    Channel.KAKAO_CHINGU: "/kakao-chingu/1/messages",
    Channel.ZALO: "/zalo/2/messages",
}
_SEEN = frozenset({Channel.RCS, Channel.VIBER})
_TRACKING_KEYS = ("shortenUrl", "trackClicks", "trackingUrl", "removeProtocol", "customDomain")


@dataclass(frozen=True)
class ProviderRequest:
    """One HTTP call: where it goes, what it carries and which of our messages are in it."""

    path: str
    body: JsonObject
    message_ids: tuple[str, ...]


def build_requests(
    messages: Sequence[Message], *, bulk_id: str, webhooks: Webhooks
) -> list[ProviderRequest]:
    """Group messages into as few provider calls as their channels and options allow."""
    groups: dict[tuple[Channel, tuple[object, ...]], list[Message]] = {}
    for message in messages:
        key = (message.channel, tuple(message.request.get(k) for k in _TRACKING_KEYS))
        groups.setdefault(key, []).append(message)
    requests: list[ProviderRequest] = []
    for index, ((channel, _), members) in enumerate(groups.items()):
        group_bulk = bulk_id if len(groups) == 1 else f"{bulk_id}-{index + 1}"
        if channel is Channel.WHATSAPP:
            body = _whatsapp_body(members, group_bulk, webhooks)
        else:
            body = _v2_body(channel, members, group_bulk, webhooks)
        ids = tuple(message.message_id for message in members)
        requests.append(ProviderRequest(PATHS[channel], body, ids))
    return requests


def _tracking(request: Mapping[str, object], webhooks: Webhooks) -> JsonObject:
    """The provider's URL options; a message that has the provider track clicks without a
    ``trackingUrl`` of its own gets the account's click report URL."""
    out = {key: request[key] for key in _TRACKING_KEYS if request.get(key) is not None}
    tracks = out.get("trackClicks", out.get("shortenUrl")) is True  # the API's defaults
    if tracks and "trackingUrl" not in out and webhooks.click_url:
        out["trackingUrl"] = webhooks.click_url
    return out


def _v2_body(
    channel: Channel, messages: Sequence[Message], bulk_id: str, webhooks: Webhooks
) -> JsonObject:
    out: list[JsonObject] = []
    for message in messages:
        entry: JsonObject = {
            "sender": message.request.get("from") or "",
            "destinations": [{"to": message.to, "messageId": message.message_id}],
            "content": CONTENT[channel](message.request),
        }
        if not entry["sender"]:
            del entry["sender"]
        options = message_options(channel, message.request)
        if options:
            entry["options"] = options
        hooks = _webhooks(channel, webhooks, message.callback_data)
        if hooks:
            entry["webhooks"] = hooks
        out.append(entry)
    body: JsonObject = {"messages": out, "options": {"schedule": {"bulkId": bulk_id}}}
    tracking = _tracking(messages[0].request, webhooks)
    if tracking:
        body["options"]["tracking"] = tracking
    return body


def _webhooks(channel: Channel, webhooks: Webhooks, callback_data: str | None) -> JsonObject:
    hooks: JsonObject = {}
    if webhooks.delivery_url:
        hooks["delivery"] = {"url": webhooks.delivery_url, "intermediateReport": False}
        hooks["contentType"] = "application/json"
    if webhooks.seen_url and channel in _SEEN:
        hooks["seen"] = {"url": webhooks.seen_url}
    if callback_data:
        hooks["callbackData"] = callback_data
    return hooks


def _whatsapp_body(messages: Sequence[Message], bulk_id: str, webhooks: Webhooks) -> JsonObject:
    out: list[JsonObject] = []
    for message in messages:
        request = message.request
        placeholders = request.get("placeholders")
        content: JsonObject = {
            "templateName": request["templateName"],
            "templateData": {
                "body": {
                    "placeholders": list(placeholders) if isinstance(placeholders, list) else []
                }
            },
            "language": str(request.get("templateLanguage") or "en"),
        }
        entry: JsonObject = {
            "from": request["from"],
            "to": message.to,
            "messageId": message.message_id,
            "content": content,
        }
        if message.callback_data:
            entry["callbackData"] = message.callback_data
        if webhooks.delivery_url:
            entry["notifyUrl"] = webhooks.delivery_url
        tracking = _tracking(request, webhooks)
        if tracking:
            entry["urlOptions"] = tracking
        out.append(entry)
    return {"messages": out, "bulkId": bulk_id}
