"""The provider's own request checks, per endpoint: (property, violation) pairs."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

Violations = list[tuple[str, str]]

TEXT_LIMITS = {
    "sms": 4096 * 4,  # long texts are refused by part count, not here
    "viber": 1000,
    "kakao-alim": 1000,
    "kakao-chingu": 1300,
    "rcs": 3072,
}


def _digits(value: object, limit: int) -> bool:
    return isinstance(value, str) and value.isdigit() and 0 < len(value) <= limit


def _content_sms(content: Mapping[str, Any], where: str, out: Violations) -> None:
    text = content.get("text")
    if not isinstance(text, str) or not text:
        out.append((f"{where}.text", "must not be blank"))


def _content_mms(content: Mapping[str, Any], where: str, out: Violations) -> None:
    segments = content.get("messageSegments")
    if not isinstance(segments, list) or not segments:
        out.append((f"{where}.messageSegments", "must not be empty"))
    title = content.get("title")
    if title is not None and (not isinstance(title, str) or len(title) > 66):
        out.append((f"{where}.title", "size must be between 0 and 66"))


def _content_typed(channel: str) -> Callable[[Mapping[str, Any], str, Violations], None]:
    def check(content: Mapping[str, Any], where: str, out: Violations) -> None:
        kind = content.get("type")
        if not isinstance(kind, str):
            out.append((f"{where}.type", "must not be null"))
            return
        text = content.get("text")
        limit = TEXT_LIMITS.get(channel)
        needs_text = kind in ("TEXT", "TEXT_FREE_FORM", "TEMPLATE") and channel != "zalo"
        if needs_text and (not isinstance(text, str) or not text):
            out.append((f"{where}.text", "must not be blank"))
        if isinstance(text, str) and limit is not None and len(text) > limit:
            out.append((f"{where}.text", f"size must be between 0 and {limit}"))
        if channel == "viber" and kind == "IMAGE" and not content.get("mediaUrl"):
            out.append((f"{where}.mediaUrl", "must not be blank"))
        if channel == "kakao-alim":
            code = content.get("templateCode")
            if not isinstance(code, str) or not 0 < len(code) <= 30:
                out.append((f"{where}.templateCode", "size must be between 1 and 30"))
        if channel == "zalo" and not isinstance(content.get("templateName"), int):
            out.append((f"{where}.templateName", "must be the registered template id"))

    return check


CONTENT_CHECKS: Mapping[str, Callable[[Mapping[str, Any], str, Violations], None]] = {
    "sms": _content_sms,
    "mms": _content_mms,
    "rcs": _content_typed("rcs"),
    "viber": _content_typed("viber"),
    "kakao-alim": _content_typed("kakao-alim"),
    "kakao-chingu": _content_typed("kakao-chingu"),
    "zalo": _content_typed("zalo"),
}
SENDER_REQUIRED = frozenset({"viber", "kakao-alim", "kakao-chingu", "zalo"})


def check_v2_messages(channel: str, body: object) -> Violations:
    """Checks for the current request shape: messages[].destinations[] and content."""
    out: Violations = []
    messages = body.get("messages") if isinstance(body, Mapping) else None
    if not isinstance(messages, list) or not messages:
        return [("messages", "must not be empty")]
    for index, message in enumerate(messages):
        where = f"messages[{index}]"
        if not isinstance(message, Mapping):
            out.append((where, "must be an object"))
            continue
        if channel in SENDER_REQUIRED and not message.get("sender"):
            out.append((f"{where}.sender", "must not be blank"))
        destinations = message.get("destinations")
        if not isinstance(destinations, list) or not destinations:
            out.append((f"{where}.destinations", "must not be empty"))
        else:
            for number, destination in enumerate(destinations):
                at = f"{where}.destinations[{number}]"
                if not isinstance(destination, Mapping) or not _digits(destination.get("to"), 64):
                    out.append((f"{at}.to", "must be a phone number of 1 to 64 digits"))
                    continue
                message_id = destination.get("messageId")
                if message_id is not None and (
                    not isinstance(message_id, str) or len(message_id) > 200
                ):
                    out.append((f"{at}.messageId", "size must be between 0 and 200"))
        content = message.get("content")
        if not isinstance(content, Mapping):
            out.append((f"{where}.content", "must not be null"))
        else:
            CONTENT_CHECKS[channel](content, f"{where}.content", out)
        hooks = message.get("webhooks")
        if isinstance(hooks, Mapping):
            callback = hooks.get("callbackData")
            if isinstance(callback, str) and len(callback) > 4000:
                out.append((f"{where}.webhooks.callbackData", "size must be between 0 and 4000"))
    return out


def check_whatsapp_template(body: object) -> Violations:
    """Checks for WhatsApp's template request: one recipient per message."""
    out: Violations = []
    messages = body.get("messages") if isinstance(body, Mapping) else None
    if not isinstance(messages, list) or not messages:
        return [("messages", "must not be empty")]
    for index, message in enumerate(messages):
        where = f"messages[{index}]"
        if not isinstance(message, Mapping):
            out.append((where, "must be an object"))
            continue
        sender = message.get("from")
        if not isinstance(sender, str) or not 0 < len(sender) <= 24:
            out.append((f"{where}.from", "size must be between 1 and 24"))
        if not _digits(message.get("to"), 150):
            out.append((f"{where}.to", "size must be between 1 and 150"))
        content = message.get("content")
        if not isinstance(content, Mapping) or not content.get("templateName"):
            out.append((f"{where}.content.templateName", "must not be blank"))
        elif not content.get("language"):
            out.append((f"{where}.content.language", "must not be blank"))
    return out
