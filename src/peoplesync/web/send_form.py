"""The send form's per-channel fields, and the channel request they make. Pure (but for
drawing a new form's idempotency token).

Each channel has its own section of fields, named ``<channel>-<field>`` so that sections never
share an input. ``request_of`` turns the chosen channel's fields into the request the channel
rules check (lists one item a line, ``TYPE | name | value`` for buttons and suggestions);
``field_at_fault`` maps a refused request field (``buttons[1].name``) back to its input.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from peoplesync.errors import ValidationError
from peoplesync.messaging.channels.catalog import Channel, KakaoButtonType, RcsSuggestionType

TRANSLITERATIONS = (
    "TURKISH",
    "GREEK",
    "CYRILLIC",
    "SERBIAN_CYRILLIC",
    "BULGARIAN_CYRILLIC",
    "CENTRAL_EUROPEAN",
    "BALTIC",
    "NON_UNICODE",
    "PORTUGUESE",
    "COLOMBIAN",
    "ALL",
)
LABELS = {
    "sms": "SMS",
    "lms": "LMS",
    "mms": "MMS",
    "rcs": "RCS",
    "viber": "Viber",
    "whatsapp": "WhatsApp",
    "kakao-alim": "Kakao Alim",
    "kakao-chingu": "Kakao ChinguTalk",
    "zalo": "Zalo",
}


@dataclass(frozen=True)
class FormField:
    name: str  # the request key it fills (or a part of one: cardTitle -> card.title)
    label: str
    kind: str = "text"  # text, url, textarea, select, checkbox
    options: tuple[str, ...] = ()
    help: str = ""
    root: str = ""  # the request key whose errors show here (default: name)

    def input_name(self, channel: str) -> str:
        return f"{channel}-{self.name}"

    @property
    def key(self) -> str:
        return self.root or self.name


_TEXT = FormField("text", "Text", "textarea")
_BUTTON_HELP = "One a line: TYPE | name | URL (or, for APP_LINK: | Android scheme | iOS scheme)"
FIELDS: Mapping[str, tuple[FormField, ...]] = {
    "sms": (
        _TEXT,
        FormField(
            "language",
            "Language (national character set)",
            "select",
            ("", "TR", "ES", "PT", "AUTODETECT"),
        ),
        FormField("transliteration", "Transliteration", "select", ("", *TRANSLITERATIONS)),
    ),
    "lms": (FormField("title", "Title"), _TEXT),
    "mms": (
        FormField("title", "Title"),
        FormField(
            "mediaUrl", "Media URL", "url", help="An image, audio or video file", root="media"
        ),
        _TEXT,
    ),
    "rcs": (
        FormField("type", "Content", "select", ("TEXT", "FILE", "CARD")),
        _TEXT,
        FormField("fileUrl", "File URL", "url", help="For FILE"),
        FormField("cardTitle", "Card title", help="For CARD", root="card"),
        FormField("cardDescription", "Card description", root="card"),
        FormField("cardMediaUrl", "Card image URL", "url", root="card"),
        FormField(
            "suggestions",
            "Suggestions",
            "textarea",
            help="One a line: REPLY | text, OPEN_URL | text | URL, DIAL_PHONE | text | number,"
            " SHOW_LOCATION | text | latitude | longitude, REQUEST_LOCATION | text",
        ),
    ),
    "viber": (
        _TEXT,
        FormField("imageUrl", "Image URL", "url"),
        FormField("buttonText", "Button text"),
        FormField("buttonUrl", "Button URL", "url"),
        FormField("isPromotional", "Promotional message", "checkbox"),
    ),
    "whatsapp": (
        FormField("templateName", "Template name", help="As registered, e.g. welcome_2"),
        FormField("templateLanguage", "Template language", help="e.g. en or en_GB"),
        FormField("placeholders", "Placeholders", "textarea", help="One a line, in order"),
    ),
    "kakao-alim": (
        FormField("templateName", "Template code"),
        FormField("title", "Title"),
        _TEXT,
        FormField("buttons", "Buttons", "textarea", help=_BUTTON_HELP),
    ),
    "kakao-chingu": (
        _TEXT,
        FormField("imageUrl", "Image URL", "url"),
        FormField("imageLink", "Image link", "url"),
        FormField("buttons", "Buttons (up to 5 URL or APP_LINK)", "textarea", help=_BUTTON_HELP),
    ),
    "zalo": (
        FormField("templateName", "Template id", help="The registered template's id (digits)"),
        FormField("placeholders", "Placeholders", "textarea", help="One a line: name = value"),
    ),
}
CHANNELS = tuple(FIELDS)
COMMON = ("account", "channel", "to", "from")


TOKEN = "send_token"  # noqa: S105 (a field name: a second submit of one form is a no-op)
_TOKEN_SHAPE = re.compile(r"^[0-9a-f]{32}$")


def new_token() -> str:
    """A send form's idempotency token (one per form shown)."""
    return secrets.token_hex(16)


def idempotency_key(values: Mapping[str, str]) -> str | None:
    """The outbox key of the form's token: a second submit of the same form answers the
    first's message. ``None`` (a new message) when the form carries none or a malformed one."""
    token = values.get(TOKEN, "")
    return f"send-form:{token}" if _TOKEN_SHAPE.match(token) else None


def form_values(form: Mapping[str, object]) -> dict[str, str]:
    """Every input the form may carry, as text (at most 5,000 characters each)."""
    names = [*COMMON, "person_id", TOKEN]
    names += [f.input_name(c) for c, fields in FIELDS.items() for f in fields]
    return {name: str(form.get(name, "") or "")[:5000] for name in names}


def field_at_fault(channel: str, field: str | None) -> str | None:
    """The input that shows an error on the request field ``field`` (``buttons[1].name``)."""
    if field is None:
        return None
    root = field.split(".")[0].split("[")[0]
    if root in ("to", "from", "account"):
        return root
    for each in FIELDS.get(channel, ()):
        if each.key == root:
            return each.input_name(channel)
    return None


class FormError(ValidationError):
    """An input that cannot become a request field (a button line without its URL, ...)."""

    code = "INVALID_FORM_FIELD"


def request_of(channel: str, values: Mapping[str, str]) -> tuple[str | None, dict[str, Any]]:
    """(text, more request fields) from the chosen channel's inputs."""
    if channel not in FIELDS:
        raise FormError(
            f"no channel {channel[:20]!r}",
            record="the send form",
            field="channel",
            hint="pick one of: " + ", ".join(CHANNELS),
        )

    def get(name: str) -> str:
        return values.get(f"{channel}-{name}", "").strip()

    extra: dict[str, Any] = {}
    for each in FIELDS[channel]:
        if each.root or each.name in ("text", "suggestions", "buttons", "placeholders"):
            continue
        value = get(each.name)
        if each.kind == "checkbox":
            extra[each.name] = value in ("on", "true", "1")
        elif value:
            extra[each.name] = value
    text = values.get(f"{channel}-text", "") if "text" in _names(channel) else None
    special = _SPECIAL.get(channel)
    if special is not None:
        extra |= special(channel, get)
    return (text if text else None), extra


def _names(channel: str) -> set[str]:
    return {each.name for each in FIELDS[channel]}


def _lines(value: str) -> list[str]:
    return [line.strip() for line in value.splitlines() if line.strip()]


def _parts(line: str) -> list[str]:
    return [part.strip() for part in line.split("|")]


def _fail(channel: str, name: str, index: int, detail: str) -> FormError:
    return FormError(
        f"line {index + 1}: {detail}",
        record="the send form",
        field=f"{channel}-{name}",
        hint=detail,
    )


def _mms(channel: str, get: Callable[[str], str]) -> dict[str, Any]:
    url = get("mediaUrl")
    return {"media": [{"url": url}]} if url else {}


def _rcs(channel: str, get: Callable[[str], str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    card = {
        key: get(name)
        for key, name in (
            ("title", "cardTitle"),
            ("description", "cardDescription"),
            ("mediaUrl", "cardMediaUrl"),
        )
        if get(name)
    }
    if card or get("type") == "CARD":
        out["card"] = card
    suggestions = []
    for index, line in enumerate(_lines(get("suggestions"))):
        parts = _parts(line)
        kind = parts[0].upper()
        suggestion: dict[str, Any] = {"type": kind, "text": parts[1] if len(parts) > 1 else ""}
        extra = parts[2:]
        if kind == RcsSuggestionType.OPEN_URL and extra:
            suggestion["url"] = extra[0]
        elif kind == RcsSuggestionType.DIAL_PHONE and extra:
            suggestion["phoneNumber"] = extra[0]
        elif kind == RcsSuggestionType.SHOW_LOCATION and len(extra) >= 2:
            try:
                suggestion["latitude"] = float(extra[0])
                suggestion["longitude"] = float(extra[1])
            except ValueError:
                detail = "latitude and longitude are numbers"
                raise _fail(channel, "suggestions", index, detail) from None
        suggestions.append(suggestion)
    if suggestions:
        out["suggestions"] = suggestions
    if get("type") != "TEXT":
        out["text"] = None
    return out


def _buttons(channel: str, get: Callable[[str], str]) -> dict[str, Any]:
    buttons = []
    for line in _lines(get("buttons")):
        parts = _parts(line)
        kind = parts[0].upper()
        button: dict[str, Any] = {"type": kind, "name": parts[1] if len(parts) > 1 else ""}
        rest = parts[2:]
        if kind == KakaoButtonType.APP_LINK:
            for key, value in zip(("schemeAndroid", "schemeIos"), rest, strict=False):
                button[key] = value
        elif rest and rest[0]:
            button["urlMobile"] = rest[0]
        buttons.append(button)
    return {"buttons": buttons} if buttons else {}


def _whatsapp(channel: str, get: Callable[[str], str]) -> dict[str, Any]:
    return {"placeholders": _lines(get("placeholders"))}


def _zalo(channel: str, get: Callable[[str], str]) -> dict[str, Any]:
    placeholders: dict[str, str] = {}
    for index, line in enumerate(_lines(get("placeholders"))):
        name, equals, value = line.partition("=")
        if not equals or not name.strip():
            raise _fail(channel, "placeholders", index, "write each placeholder as name = value")
        placeholders[name.strip()] = value.strip()
    return {"placeholders": placeholders} if placeholders else {}


_SPECIAL: Mapping[str, Callable[[str, Callable[[str], str]], dict[str, Any]]] = {
    "mms": _mms,
    "rcs": _rcs,
    "kakao-alim": _buttons,
    "kakao-chingu": _buttons,
    "whatsapp": _whatsapp,
    "zalo": _zalo,
}


def senders_for(
    senders: Mapping[str, Mapping[str, Sequence[str]]], channel: str
) -> dict[str, list[str]]:
    """Each account's sender names for ``channel`` (the ``from`` picker's options)."""
    return {account: list(by.get(channel, [])) for account, by in senders.items()}


assert set(FIELDS) == {c.value for c in Channel}
