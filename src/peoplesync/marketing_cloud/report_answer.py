"""The Reports activity's answer for one contact, from what peoplesync stored about the message.

Delivery: the report's group routes the contact (DELIVERED, UNDELIVERABLE, REJECTED, EXPIRED);
a message still pending, or with no report yet, is NOT_AVAILABLE, since the network may still
deliver it. ``seen`` is SEEN once a seen report arrived, else NOT_SEEN. Clicks: the clicked URL
(the original, long one) or NOT_CLICKED. Times are written as Marketing Cloud reads them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from peoplesync.marketing_cloud.server_time import server_time

FINAL_GROUPS = ("DELIVERED", "UNDELIVERABLE", "REJECTED", "EXPIRED")
NOT_AVAILABLE = "NOT_AVAILABLE"
NOT_CLICKED = "NOT_CLICKED"


@dataclass(frozen=True)
class DeliveryFacts:
    """A message's last delivery report and its seen report, as stored."""

    status_group: str | None = None
    status_name: str | None = None
    error_name: str | None = None
    sent_at: datetime | None = None
    done_at: datetime | None = None
    seen_at: datetime | None = None


@dataclass(frozen=True)
class Click:
    url: str
    at: datetime


def delivery_answer(facts: DeliveryFacts | None) -> dict[str, str]:
    """Out-arguments (and ``branchResult``) for the delivery side of a message."""
    group = (facts.status_group or "").upper() if facts else ""
    final = group in FINAL_GROUPS
    name = (facts.status_name if facts and final else None) or NOT_AVAILABLE
    answer = {
        "statusGroupName": group if final else NOT_AVAILABLE,
        "statusName": name,
        "errorName": (facts.error_name or "") if facts else "",
        "sentAt": _time(facts.sent_at if facts else None),
        "doneAt": _time(facts.done_at if facts and final else None),
        "seenAt": _time(facts.seen_at if facts else None),
        "seen": "SEEN" if facts and facts.seen_at else "NOT_SEEN",
    }
    answer["branchResult"] = answer["statusGroupName"]
    return answer


def click_answer(clicks: Sequence[Click], url: str | None = None) -> dict[str, str]:
    """Out-arguments for clicks: the first click (on ``url`` when asked), or NOT_CLICKED."""
    chosen = sorted((c for c in clicks if url is None or c.url == url), key=lambda c: c.at)
    if not chosen:
        return {"notificationType": "", "url": NOT_CLICKED, "branchResult": NOT_CLICKED}
    return {"notificationType": "CLICKED", "url": chosen[0].url, "branchResult": "CLICKED"}


def _time(value: datetime | None) -> str:
    return server_time(value) if value else ""
