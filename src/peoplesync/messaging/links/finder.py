"""Finds the URLs in a message's body text. Pure.

A URL starts with ``http://`` or ``https://`` and runs to the next whitespace or angle
bracket or quote. Punctuation that ends a sentence (``.``, ``,``, ``!``, ``?``, a closing
quote...) is not part of it, and neither is a closing bracket without its opening one inside
the URL, so ``(see https://example.com/a_(b))`` finds ``https://example.com/a_(b)``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_CANDIDATE = re.compile(r"https?://[^\s<>\"'`«»“”‘’「」『』。、，（）]+", re.IGNORECASE)
_TRAILING = frozenset(".,;:!?…。、，；：！？")
_PAIRS = {")": "(", "]": "[", "}": "{"}


@dataclass(frozen=True)
class FoundUrl:
    """A URL and where it sits in the text (``text[start:end] == url``)."""

    url: str
    start: int
    end: int


def find_urls(text: str) -> list[FoundUrl]:
    """The URLs in ``text``, in order."""
    found: list[FoundUrl] = []
    for match in _CANDIDATE.finditer(text):
        url = _trim(match.group())
        scheme_end = url.index("://") + 3
        if len(url) <= scheme_end or url[scheme_end] in "/?#.":
            continue  # no host: "https://" alone, or "https:///path"
        found.append(FoundUrl(url, match.start(), match.start() + len(url)))
    return found


def _trim(url: str) -> str:
    while url:
        last = url[-1]
        unpaired = last in _PAIRS and url.count(_PAIRS[last]) < url.count(last)
        if last in _TRAILING or unpaired:
            url = url[:-1]
        else:
            break
    return url
