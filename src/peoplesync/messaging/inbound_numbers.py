"""Whether a number's replies (MO) reach peoplesync: its inbound configuration at the provider.

Two-way messaging needs the provider to forward a number's replies to peoplesync's inbound
hook. A number is in one of three states, and each state allows one action (as in the
configuration application the seed describes):

- ``not_configured``: nothing forwards the number's replies -> ``create`` a configuration that
  forwards them to peoplesync;
- ``ours``: its configuration forwards them to this account's inbound hook -> ``remove`` it;
- ``elsewhere``: its configuration sends them to another application -> ``use-default``
  reassigns that configuration to peoplesync.

Only the number's default configuration (no keyword) counts: a keyword configuration takes
just the replies that start with its keyword. Decisions here are pure; the provider calls are
in ``providers/infobip/inbound_config.py``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

from peoplesync.errors import RecordError, ValidationError


class NumberState(StrEnum):
    NOT_CONFIGURED = "not_configured"
    OURS = "ours"
    ELSEWHERE = "elsewhere"


class Action(StrEnum):
    CREATE = "create"
    REMOVE = "remove"
    USE_DEFAULT = "use-default"


ACTION_FOR = {
    NumberState.NOT_CONFIGURED: Action.CREATE,
    NumberState.OURS: Action.REMOVE,
    NumberState.ELSEWHERE: Action.USE_DEFAULT,
}

# Our channel names -> the provider's configuration channel (the channels that take replies).
CONFIG_CHANNELS = {
    "sms": "SMS",
    "mms": "MMS",
    "rcs": "RCS",
    "viber": "VIBER_BM",
    "whatsapp": "WHATSAPP",
}
_NUMBER = re.compile(r"^\d{3,20}$")


class InboundNumberError(RecordError):
    """The asked change does not fit the number's state, or the provider refused it."""

    code = "INBOUND_NUMBER"


@dataclass(frozen=True)
class InboundConfig:
    """One inbound configuration as the provider reports it."""

    key: str
    channel: str
    number: str | None
    keyword: str | None
    forward_type: str | None
    forward_url: str | None


@dataclass(frozen=True)
class NumberStatus:
    number: str
    channel: str
    state: NumberState
    config: InboundConfig | None

    @property
    def action(self) -> Action:
        return ACTION_FOR[self.state]

    def as_json(self) -> dict[str, str | None]:
        """What the CLI and the API show: never the hook URL's token."""
        forwards_to = None
        if self.config is not None and self.config.forward_url:
            parts = urlsplit(self.config.forward_url)
            forwards_to = f"{parts.scheme}://{parts.netloc}{parts.path}"
        return {
            "number": self.number,
            "channel": self.channel,
            "state": self.state.value,
            "configuration_key": self.config.key if self.config else None,
            "forwards_to": forwards_to,
            "action": self.action.value,
        }


def normalise_number(value: str) -> str:
    """Digits only (``+385 91 234 5678`` -> ``385912345678``); a ValidationError otherwise."""
    digits = re.sub(r"[\s().-]", "", value.strip()).removeprefix("+")
    if not _NUMBER.match(digits):
        raise ValidationError(
            f"{value!r} is not a phone number",
            record=value or "(empty)",
            field="number",
            hint="give the number in international form, e.g. +385912345678",
        )
    return digits


def config_channel(channel: str) -> str:
    """The provider's channel name for ``channel``; a ValidationError when it takes no replies."""
    try:
        return CONFIG_CHANNELS[channel.lower()]
    except KeyError:
        raise ValidationError(
            f"channel {channel!r} has no inbound number configuration",
            field="channel",
            hint=f"use one of {', '.join(CONFIG_CHANNELS)}",
        ) from None


def is_ours(forward_url: str | None, hook_url: str) -> bool:
    """Same scheme, host and path as our inbound hook (the token may have changed)."""
    if not forward_url:
        return False
    theirs, ours = urlsplit(forward_url), urlsplit(hook_url)
    return (theirs.scheme, theirs.netloc.lower(), theirs.path.rstrip("/")) == (
        ours.scheme,
        ours.netloc.lower(),
        ours.path.rstrip("/"),
    )


def status_of(
    number: str, channel: str, configs: Sequence[InboundConfig], hook_url: str
) -> NumberStatus:
    """The number's state from the provider's configurations for it."""
    default = next((c for c in configs if not c.keyword and (c.number in (None, number))), None)
    if default is None or default.forward_type in (None, "NO_ACTION"):
        state = NumberState.NOT_CONFIGURED
    elif default.forward_type == "HTTP_FORWARD" and is_ours(default.forward_url, hook_url):
        state = NumberState.OURS
    else:
        state = NumberState.ELSEWHERE
    return NumberStatus(number, channel, state, default)


def check_action(status: NumberStatus, action: Action) -> None:
    """Refuse an action the number's state does not allow, saying which one it does."""
    if action is status.action:
        return
    why = {
        NumberState.NOT_CONFIGURED: "has no inbound configuration",
        NumberState.OURS: "already forwards its replies to peoplesync",
        NumberState.ELSEWHERE: "forwards its replies to another application",
    }[status.state]
    raise InboundNumberError(
        f"cannot {action.value}: the number {why}",
        record=status.number,
        field="action",
        hint=f"the action for this state is {status.action.value}",
    )
