"""What a click's user agent says about the device: type, operating system, maker.

Parsed with ua-parser (the uap-core rules, updated with each ``ua-parser-builtins`` release;
the ``ua-parser-rs`` accelerator when installed). The rules load on first use (about 0.2 s);
``warm_up`` pays that before the first click. Device types: ``mobile``, ``tablet``,
``desktop``, ``bot`` (crawlers and link previews, e.g. WhatsApp's), ``unknown`` (no or an
unrecognised user agent).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import ua_parser

MOBILE, TABLET, DESKTOP, BOT, UNKNOWN = "mobile", "tablet", "desktop", "bot", "unknown"
USER_AGENT_LIMIT = 500  # characters read (and stored) of a user agent
_MOBILE_OS = frozenset(
    {"iOS", "Android", "Windows Phone", "BlackBerry OS", "KaiOS", "Symbian OS", "Firefox OS"}
)
_DESKTOP_OS = frozenset(
    {"Windows", "Mac OS X", "Linux", "Ubuntu", "Chrome OS", "Fedora", "Debian", "FreeBSD"}
)
_NO_BRAND = frozenset({"Generic", "Generic_Android", "Generic_Android_Tablet", "Generic_Inettv"})


@dataclass(frozen=True)
class Device:
    """The seed's ``deviceType``, ``os`` and ``deviceName`` (the maker) of one click."""

    device_type: str
    os: str | None
    device_name: str | None


def read_device(user_agent: str | None) -> Device:
    """The device behind ``user_agent``; never raises."""
    return _read_device((user_agent or "")[:USER_AGENT_LIMIT])


@functools.lru_cache(maxsize=4096)
def _read_device(text: str) -> Device:
    """Cached by user agent: a campaign's clicks come from a few hundred browsers. (ua-parser
    keeps a cache of its own; this one also keeps the classification below. Parsing an
    unseen agent measured about 0.05 ms here, so this is a small saving.)"""
    if not text.strip():
        return Device(UNKNOWN, None, None)
    parsed = ua_parser.parse(text)
    os_name = _os(parsed.os)
    device = parsed.device
    if device is not None and device.family == "Spider":
        agent = parsed.user_agent.family if parsed.user_agent else None
        return Device(BOT, os_name, agent)
    brand = device.brand if device is not None and device.brand not in _NO_BRAND else None
    kind = _kind(text, parsed.os.family if parsed.os else None, device)
    if brand is None and kind == DESKTOP:
        brand = "PC"
    return Device(kind, os_name, brand)


def warm_up() -> None:
    """Load the parsing rules now rather than on the first click."""
    ua_parser.parse("Mozilla/5.0 (Linux; Android 14) Mobile")


def _os(os: ua_parser.OS | None) -> str | None:
    if os is None:
        return None
    version = ".".join(part for part in (os.major, os.minor) if part)
    return f"{os.family} {version}".strip()[:50]


def _kind(text: str, os_family: str | None, device: ua_parser.Device | None) -> str:
    family = device.family if device is not None else ""
    brand = device.brand if device is not None else ""
    if family in ("iPad", "Kindle") or brand == "Generic_Android_Tablet" or "Tablet" in text:
        return TABLET
    if os_family == "Android" and "Mobile" not in text:
        return TABLET  # Android browsers on phones say "Mobile"; on tablets they do not
    if os_family in _MOBILE_OS or "Mobile" in text:
        return MOBILE
    if os_family in _DESKTOP_OS:
        return DESKTOP
    return UNKNOWN
