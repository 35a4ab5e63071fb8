"""Website and email domains in comparable form: no scheme, no www, no path, lower case."""

from __future__ import annotations

import re

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
