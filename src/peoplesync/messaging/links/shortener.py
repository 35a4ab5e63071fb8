"""Plans short links for a message: which URLs of its body get one, and the rewritten request.

Pure. Only the body is rewritten: ``text`` (SMS, LMS, MMS, RCS, Viber) or WhatsApp's
template body ``placeholders``; titles, headers, media, buttons and suggestions keep their
URLs. The rewritten request is the one validated (so an SMS is counted with its short links)
and sent: it asks the provider for no shortening or tracking of its own, since peoplesync
already did both. The domain is the message's ``customDomain`` (a host name that points at
peoplesync's web app) or else peoplesync's public URL.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from peoplesync.messaging.channels.catalog import (
    CUSTOM_DOMAIN_LIMIT,
    RULES,
    TRACKING_URL_LIMIT,
    Channel,
)
from peoplesync.messaging.channels.message_status import MessageStatus
from peoplesync.messaging.channels.verdict import Verdict
from peoplesync.messaging.links.codes import is_code
from peoplesync.messaging.links.finder import find_urls

BODY_FIELDS: Mapping[Channel, str] = {
    Channel.SMS: "text",
    Channel.LMS: "text",
    Channel.MMS: "text",
    Channel.RCS: "text",
    Channel.VIBER: "text",
    Channel.WHATSAPP: "placeholders",
}
_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)
_CONSUMED = ("removeProtocol", "customDomain", "trackingUrl")


@dataclass(frozen=True)
class PlannedLink:
    """One URL of the body and the code that stands for it."""

    position: int  # 0, 1, ... in body order: one link per (message, position)
    field: str  # "text" or "placeholders[1]"
    start: int
    end: int
    url: str  # the long URL, as the recipient's browser should reach it
    code: str


@dataclass(frozen=True)
class LinkPlan:
    """The short links of one message and how they are written into its body."""

    base: str  # what precedes the code: "https://people.example.com" or "people.example.com"
    tracked: bool  # clicks are recorded (trackClicks); otherwise the link only redirects
    links: tuple[PlannedLink, ...]

    def short_url(self, code: str) -> str:
        return f"{self.base}/{code}"

    def recoded(self, codes: Mapping[int, str]) -> LinkPlan:
        """The same plan with new codes for some positions (after a code collision)."""
        links = tuple(
            replace(link, code=codes.get(link.position, link.code)) for link in self.links
        )
        return replace(self, links=links)

    def apply(self, request: Mapping[str, object]) -> dict[str, Any]:
        """The request with its body's URLs replaced and the provider's own tracking off."""
        out = {key: value for key, value in request.items() if key not in _CONSUMED}
        out["shortenUrl"] = False
        out["trackClicks"] = False
        by_field: dict[str, list[PlannedLink]] = {}
        for link in self.links:
            by_field.setdefault(link.field, []).append(link)
        for field, links in by_field.items():
            name, index = _split(field)
            original = request[name] if index is None else _list(request[name])[index]
            text = _replace(str(original), links, self.short_url)
            if index is None:
                out[name] = text
            else:
                items = list(_list(out[name]))
                items[index] = text
                out[name] = items
        return out


@dataclass(frozen=True)
class Prepared:
    """A request made ready for validation: rewritten (with a plan) or as it was."""

    request: Mapping[str, object]
    plan: LinkPlan | None = None
    refusal: Verdict | None = None  # the links cannot be made; the message is refused


def wants_links(channel: str, request: Mapping[str, object]) -> bool:
    """Whether the request asks for shortening or click tracking on a channel that has it."""
    try:
        rules = RULES[Channel(channel)]
    except ValueError:
        return False
    asked = request.get("shortenUrl") is True or request.get("trackClicks") is True
    return asked and rules.url_tracking


def prepare(
    channel: str,
    request: Mapping[str, object],
    *,
    default_base: str | None,
    new_code: Callable[[], str],
) -> Prepared:
    """Plan the short links of a request.

    A no-op unless the request asks for them and peoplesync has a public URL
    (``default_base``); without one the flags go to the provider, which shortens and tracks
    on its own domains.
    """
    if default_base is None or not wants_links(channel, request):
        return Prepared(request)
    base, refusal = _base(request, default_base)
    if refusal is not None:
        return Prepared(request, refusal=refusal)
    assert base is not None
    links: list[PlannedLink] = []
    for field, text in _body(Channel(channel), request):
        for found in find_urls(text):
            if _already_short(found.url, base):
                continue
            url = found.url.replace("\\#", "#")  # a journey's escaped hashtag
            if len(url) > TRACKING_URL_LIMIT:
                return Prepared(
                    request,
                    refusal=Verdict(
                        MessageStatus.INVALID_TRACKING_URL,
                        field,
                        f"a URL in the body has {len(url)} characters; "
                        f"tracked URLs have at most {TRACKING_URL_LIMIT}",
                    ),
                )
            links.append(PlannedLink(len(links), field, found.start, found.end, url, new_code()))
    plan = LinkPlan(base, request.get("trackClicks") is True, tuple(links))
    return Prepared(plan.apply(request), plan)


def _base(request: Mapping[str, object], default_base: str) -> tuple[str | None, Verdict | None]:
    domain = request.get("customDomain")
    if domain is not None:
        if (
            not isinstance(domain, str)
            or len(domain) > CUSTOM_DOMAIN_LIMIT
            or not _HOSTNAME.match(domain)
        ):
            return None, Verdict(
                MessageStatus.INVALID_CUSTOM_DOMAIN,
                "customDomain",
                "a custom domain is a host name such as links.example.com "
                f"(at most {CUSTOM_DOMAIN_LIMIT} characters)",
            )
        base = f"https://{domain.lower()}"
    elif default_base.startswith(("https://", "http://")):
        base = default_base.rstrip("/")
    else:
        return None, Verdict(
            MessageStatus.INVALID_CUSTOM_DOMAIN,
            "customDomain",
            f"peoplesync's public URL {default_base[:100]!r} is not an http(s) address: set "
            "PEOPLESYNC_PUBLIC_URL to e.g. https://people.example.com, or give customDomain",
        )
    if request.get("removeProtocol") is True:
        base = base.split("://", 1)[-1]
    return base, None


def _already_short(url: str, base: str) -> bool:
    bare = base.split("://", 1)[-1].lower()
    rest = url.split("://", 1)[-1]
    if not rest.lower().startswith(bare + "/"):
        return False
    return is_code(rest[len(bare) + 1 :])


def _body(channel: Channel, request: Mapping[str, object]) -> list[tuple[str, str]]:
    name = BODY_FIELDS[channel]
    value = request.get(name)
    if isinstance(value, str):
        return [(name, value)]
    if isinstance(value, list):
        return [(f"{name}[{i}]", item) for i, item in enumerate(value) if isinstance(item, str)]
    return []


def _split(field: str) -> tuple[str, int | None]:
    if field.endswith("]"):
        name, _, index = field[:-1].partition("[")
        return name, int(index)
    return field, None


def _list(value: object) -> Sequence[object]:
    return value if isinstance(value, list) else []


def _replace(text: str, links: Sequence[PlannedLink], short_url: Callable[[str], str]) -> str:
    pieces: list[str] = []
    at = 0
    for link in sorted(links, key=lambda each: each.start):
        pieces += [text[at : link.start], short_url(link.code)]
        at = link.end
    pieces.append(text[at:])
    return "".join(pieces)
