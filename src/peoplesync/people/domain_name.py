"""Website and email domains in comparable form: no scheme, no www, no path, lower case."""

from __future__ import annotations

import re
from functools import lru_cache

_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://")


def normalise_domain(raw: str | None) -> str | None:
    """Reduce a URL, host or email address to its bare domain; None when nothing is left."""
    if raw is None:
        return None
    text = raw.strip().lower()
    if "@" in text and "/" not in text.split("@", 1)[0]:
        text = text.rsplit("@", 1)[1]
    text = _SCHEME.sub("", text)
    text = re.split(r"[/?#]", text, maxsplit=1)[0]
    text = text.rsplit("@", 1)[-1]  # credentials in a URL
    text = text.split(":", 1)[0].strip(".")
    while text.startswith("www."):
        text = text[4:]
    return text or None


# Mailbox providers: an address there says nothing about the person's employer.
FREE_MAIL = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "yahoo.com",
        "hotmail.com",
        "outlook.com",
        "live.com",
        "msn.com",
        "icloud.com",
        "me.com",
        "aol.com",
        "gmx.com",
        "gmx.de",
        "web.de",
        "mail.ru",
        "yandex.ru",
        "proton.me",
        "protonmail.com",
        "zoho.com",
        "qq.com",
        "163.com",
    }
)


def email_domain(address: str | None) -> str | None:
    """The domain of an address when it can name an employer (not a free mailbox)."""
    if not address or "@" not in address:
        return None
    return _employer_domain(address.rsplit("@", 1)[1])


@lru_cache(maxsize=4096)
def _employer_domain(part: str) -> str | None:
    # Many addresses share a domain: each distinct one is reduced once.
    domain = normalise_domain(part)
    return None if domain is None or domain in FREE_MAIL else domain
