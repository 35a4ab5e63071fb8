"""Device type, OS and maker from real user agents (ua-parser's rules)."""

from __future__ import annotations

import pytest

from peoplesync.messaging.links.devices import Device, read_device

IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1"
)
GALAXY = (
    "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Mobile Safari/537.36"
)
GALAXY_TAB = (
    "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)
IPAD = (
    "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/16.6 Mobile/15E148 Safari/604.1"
)
WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)
MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.1 Safari/605.1.15"
)


@pytest.mark.parametrize(
    ("user_agent", "expected"),
    [
        (IPHONE, Device("mobile", "iOS 17.1", "Apple")),
        (GALAXY, Device("mobile", "Android 14", "Samsung")),
        (GALAXY_TAB, Device("tablet", "Android 13", None)),
        (IPAD, Device("tablet", "iOS 16.6", "Apple")),
        (WINDOWS, Device("desktop", "Windows 10", "PC")),
        (MAC, Device("desktop", "Mac OS X 10.15", "Apple")),
        (
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            Device("bot", None, "Googlebot"),
        ),
        ("WhatsApp/2.23.20.0 A", Device("bot", None, "WhatsApp")),
        (
            "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
            Device("bot", None, "FacebookBot"),
        ),
        (
            "Mozilla/5.0 (Linux; U; en-us; KFAPWI Build/JDQ39) AppleWebKit/535.19 "
            "(KHTML, like Gecko) Silk/3.13 Safari/535.19 Silk-Accelerated=true",
            Device("tablet", "Android", "Amazon"),
        ),
        ("curl/8.4.0", Device("unknown", None, None)),
        ("", Device("unknown", None, None)),
        (None, Device("unknown", None, None)),
    ],
)
def test_a_user_agent_tells_type_os_and_maker(user_agent: str | None, expected: Device) -> None:
    assert read_device(user_agent) == expected


def test_an_absurd_user_agent_is_read_not_raised() -> None:
    device = read_device("\x00" + "Mozilla/5.0 (" * 10_000)
    assert device.device_type in {"mobile", "tablet", "desktop", "bot", "unknown"}
