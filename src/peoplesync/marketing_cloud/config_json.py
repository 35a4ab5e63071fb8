"""The ``config.json`` Journey Builder loads for each of peoplesync's activities.

It is built per request from the address the request came to, so one deployment serves any
host name it is reached by; every URL in it is absolute and HTTPS (Journey Builder calls only
HTTPS endpoints). Three activities per business unit: **Message** (an action whose
out-arguments ``messageStatus`` and ``messageId`` later steps read), **Reports** (an action
whose out-arguments carry a message's report, for a decision split), and the two **splits**
(``delivery-split``, ``click-split``) that route on the report directly.

With a ``customerKey`` (a Key Management salt key's external key) Journey Builder signs the
activity's calls with that key instead of the package's JWT secret. Journey Builder finds
``config.json`` under the endpoint URL the package registers, so the key is in that URL:
``/journey/<unit>~<customerKey>/<activity>/`` (``~`` is in neither a unit's name nor a key's);
the config then names the key and every URL in it stays under that path.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

MESSAGE_OUT = ("messageStatus", "messageId")
REPORT_OUT = (
    "statusName",
    "statusGroupName",
    "errorName",
    "doneAt",
    "sentAt",
    "seenAt",
    "seen",
    "url",
    "notificationType",
)


class ActivityKind(StrEnum):
    """The activities a business unit's endpoints serve, by their path segment."""

    MESSAGE = "message"
    REPORTS = "reports"
    DELIVERY_SPLIT = "delivery-split"
    CLICK_SPLIT = "click-split"


DELIVERY_OUTCOMES = ("DELIVERED", "UNDELIVERABLE", "REJECTED", "EXPIRED", "NOT_AVAILABLE")
CLICK_OUTCOMES = ("CLICKED", "NOT_CLICKED")

_NAMES = {
    ActivityKind.MESSAGE: ("peoplesync Message", "Send SMS, WhatsApp, Viber, RCS, Kakao or Zalo"),
    ActivityKind.REPORTS: ("peoplesync Reports", "A sent message's delivery, seen or click report"),
    ActivityKind.DELIVERY_SPLIT: ("peoplesync Delivery split", "Route on a message's delivery"),
    ActivityKind.CLICK_SPLIT: ("peoplesync Click split", "Route on whether a link was clicked"),
}


@dataclass(frozen=True)
class CallPolicy:
    """How Journey Builder calls ``execute``: peoplesync answers fast and dedupes retries."""

    timeout_ms: int = 20_000
    retry_count: int = 2
    retry_delay_ms: int = 1_000
    concurrent_requests: int = 10

    def __post_init__(self) -> None:
        for name, value, low, high in (
            ("timeout_ms", self.timeout_ms, 1_000, 100_000),
            ("retry_count", self.retry_count, 0, 5),
            ("retry_delay_ms", self.retry_delay_ms, 0, 10_000),
            ("concurrent_requests", self.concurrent_requests, 1, 50),
        ):
            if not low <= value <= high:
                raise ValueError(f"{name} is {low} to {high}, not {value}")


KEY_MARK = "~"


def endpoint(base_url: str, unit: str, kind: ActivityKind, customer_key: str | None = None) -> str:
    """An activity's endpoint: ``<public URL>/journey/<unit>/<kind>/``, with a named salt
    key ``<public URL>/journey/<unit>~<customerKey>/<kind>/``."""
    segment = f"{unit}{KEY_MARK}{customer_key}" if customer_key else unit
    return f"{base_url.rstrip('/')}/journey/{segment}/{kind.value}/"


def split_unit(segment: str) -> tuple[str, str | None]:
    """A path's unit segment as the unit's name and the ``customerKey`` it names, if any."""
    unit, mark, customer_key = segment.partition(KEY_MARK)
    return unit, (customer_key if mark else None)


def config_json(
    base_url: str,
    unit: str,
    kind: ActivityKind,
    *,
    policy: CallPolicy | None = None,
    use_jwt: bool = True,
    customer_key: str | None = None,
) -> dict[str, Any]:
    """The activity's ``config.json`` (workflow API 1.1) with URLs under ``base_url``; with
    ``customer_key``, its calls signed with that salt key."""
    used = policy or CallPolicy()
    root = endpoint(base_url, unit, kind, customer_key)
    signed_by: dict[str, str] = {"customerKey": customer_key} if customer_key else {}
    outcomes = _outcomes(kind)
    out_names: tuple[str, ...] = ()
    if not outcomes:
        out_names = MESSAGE_OUT if kind is ActivityKind.MESSAGE else REPORT_OUT
    name, description = _NAMES[kind]
    config: dict[str, Any] = {
        "workflowApiVersion": "1.1",
        "metaData": {
            "icon": "icon.svg",
            "iconSmall": "icon.svg",
            "category": "message" if kind is ActivityKind.MESSAGE else "flow",
            "isConfigured": False,
            "configOnDrop": True,
        },
        "type": "RESTDECISION" if outcomes else "REST",
        "lang": {"en-US": {"name": name, "description": description}},
        "arguments": {
            "execute": {
                "inArguments": [
                    {"contactKey": "{{Contact.Key}}"},
                    {"journeyVersion": "{{Context.VersionNumber}}"},
                    {"definitionId": "{{Context.DefinitionId}}"},
                ],
                "outArguments": [{each: ""} for each in out_names],
                "url": f"{root}execute",
                "verb": "POST",
                "body": "",
                "header": "",
                "format": "json",
                "useJwt": use_jwt,
                "timeout": used.timeout_ms,
                "retryCount": used.retry_count,
                "retryDelay": used.retry_delay_ms,
                "concurrentRequests": used.concurrent_requests,
                **signed_by,
            }
        },
        "configurationArguments": {
            step: {"url": f"{root}{step}", "verb": "POST", "useJwt": use_jwt, **signed_by}
            for step in ("save", "validate", "publish", "stop")
        },
        "wizardSteps": [{"label": "Configure", "key": "configure"}],
        "userInterfaces": {
            "configModal": {"height": 640, "width": 900, "fullscreen": False, "url": f"{root}ui"}
        },
        "configurationSupportsReadOnlyMode": True,
        "schema": {
            "arguments": {
                "execute": {
                    "inArguments": [],
                    "outArguments": [
                        {
                            each: {
                                "dataType": "Text",
                                "direction": "out",
                                "access": "visible",
                            }
                        }
                        for each in out_names
                    ],
                }
            }
        },
    }
    if outcomes:
        config["outcomes"] = outcomes
    return config


def _outcomes(kind: ActivityKind) -> list[dict[str, Any]]:
    names: tuple[str, ...]
    if kind is ActivityKind.DELIVERY_SPLIT:
        names = DELIVERY_OUTCOMES
    elif kind is ActivityKind.CLICK_SPLIT:
        names = CLICK_OUTCOMES
    else:
        return []
    return [
        {"arguments": {"branchResult": each}, "metaData": {"label": each.replace("_", " ").title()}}
        for each in names
    ]
