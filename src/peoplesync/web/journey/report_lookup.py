"""A message's stored events read as the Reports activity needs them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from peoplesync.marketing_cloud.report_answer import Click, DeliveryFacts
from peoplesync.messaging.reports import FINAL_STATES, SEEN

CLICKED = "clicked"


def delivery_facts(events: Sequence[Mapping[str, Any]]) -> DeliveryFacts | None:
    """The last final delivery report and the first seen report, or None without either."""
    final: Mapping[str, Any] | None = None
    seen_at: datetime | None = None
    for event in events:
        detail = _detail(event)
        if event.get("kind") in FINAL_STATES and detail.get("source") == "report":
            final = event
        elif event.get("kind") == SEEN and seen_at is None:
            seen_at = _time(event.get("at"))
    if final is None and seen_at is None:
        return None
    detail = _detail(final) if final else {}
    return DeliveryFacts(
        status_group=detail.get("group"),
        status_name=detail.get("status"),
        error_name=detail.get("error") if detail.get("error") != "NO_ERROR" else None,
        sent_at=_time(detail.get("sentAt")),
        done_at=_time(detail.get("doneAt")) or (_time(final.get("at")) if final else None),
        seen_at=seen_at,
    )


def clicks(events: Sequence[Mapping[str, Any]]) -> list[Click]:
    """Every recorded click on the message's tracked links."""
    out: list[Click] = []
    for event in events:
        detail = _detail(event)
        at = _time(event.get("at"))
        if event.get("kind") == CLICKED and isinstance(detail.get("url"), str) and at:
            out.append(Click(detail["url"], at))
    return out


def _detail(event: Mapping[str, Any]) -> Mapping[str, Any]:
    detail = event.get("detail")
    return detail if isinstance(detail, dict) else {}


def _time(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return None
