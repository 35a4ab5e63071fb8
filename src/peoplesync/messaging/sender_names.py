"""Sender names: the alphanumeric senders (or numbers) each provider account may send from,
per channel, as the Infobip app's configuration screen keeps them (SMS, Viber, Kakao, RCS,
Zalo sender names). An operator's message (``send_request``) without ``from`` goes out
from the first one added."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from peoplesync.clock import Clock
from peoplesync.errors import NotFoundError, ValidationError
from peoplesync.messaging.accounts import PROVIDERS_ON_WEB
from peoplesync.messaging.channels.catalog import RULES, Channel
from peoplesync.messaging.tables import provider_accounts, provider_senders

_s = provider_senders
MAX_LENGTH = 50  # the column; a channel's own limit is usually shorter
MAX_PER_CHANNEL = 50


class SenderExistsError(ValidationError):
    """The account already has this sender name on this channel."""

    code = "SENDER_EXISTS"


@dataclass(frozen=True)
class SenderName:
    """One sender name of one account on one channel."""

    account: str
    channel: str
    sender: str
    created_at: datetime


def sender_problem(channel: str, sender: str, *, record: str) -> ValidationError | None:
    """What is wrong with a sender name for a channel (naming the field), or None."""
    try:
        rules = RULES[Channel(channel)]
    except ValueError:
        known = ", ".join(each.value for each in Channel)
        return ValidationError(
            f"unknown channel {channel!r}", record=record, field="channel", hint=f"use {known}"
        )
    limit = min(rules.sender_limit or MAX_LENGTH, MAX_LENGTH)
    if not sender.strip() or sender != sender.strip():
        return ValidationError(
            "a sender name cannot be empty or start or end with spaces",
            record=record,
            field="sender",
            hint="e.g. InfoSMS, or a number in international form",
        )
    if len(sender) > limit:
        return ValidationError(
            f"a {channel} sender name has at most {limit} characters ({len(sender)} given)",
            record=record,
            field="sender",
            hint="use the sender registered with the provider",
        )
    return None


def with_default_sender(
    channel: str, request: Mapping[str, object], senders: Mapping[str, list[str]]
) -> dict[str, object]:
    """The request with the account's first sender name for the channel as ``from`` when it
    gives none (an empty ``from`` counts as none)."""
    shown = dict(request)
    if not shown.get("from") and senders.get(channel):
        shown["from"] = senders[channel][0]
    elif "from" in shown and not shown["from"]:
        del shown["from"]
    return shown


class SenderNames:
    """Stored sender names, on the People database."""

    def __init__(self, engine: AsyncEngine, clock: Clock) -> None:
        self._engine = engine
        self._clock = clock

    async def of(self, account: str) -> dict[str, list[str]]:
        """The account's sender names by channel, oldest first (the first is the default)."""
        query = (
            sa.select(_s.c.channel, _s.c.sender)
            .where(_s.c.account == account)
            .order_by(_s.c.channel, _s.c.position)
        )
        shown: dict[str, list[str]] = {}
        async with self._engine.connect() as conn:
            for channel, sender in await conn.execute(query):
                shown.setdefault(channel, []).append(sender)
        return shown

    async def add(self, account: str, channel: str, sender: str) -> SenderName:
        """Add a sender name; refused (naming the field) when unknown, too long or taken."""
        record = f"{account}/{channel}"
        problem = sender_problem(channel, sender, record=record)
        if problem is not None:
            raise problem
        async with self._engine.begin() as conn:
            known = await conn.execute(
                sa.select(provider_accounts.c.id).where(provider_accounts.c.name == account)
            )
            if known.first() is None:
                raise NotFoundError(
                    f"no provider account {account!r}",
                    record=account,
                    field="account",
                    hint="see the provider accounts (peoplesync providers list)",
                    web_hint=PROVIDERS_ON_WEB,
                )
            rows = await conn.execute(
                sa.select(_s.c.sender, _s.c.position).where(
                    _s.c.account == account, _s.c.channel == channel
                )
            )
            positions = {sender: position for sender, position in rows}
            taken = set(positions)
            if sender in taken:
                raise SenderExistsError(
                    f"{sender!r} is already a {channel} sender of {account!r}",
                    record=record,
                    field="sender",
                    hint="it is listed already; give another name",
                )
            if len(taken) >= MAX_PER_CHANNEL:
                raise ValidationError(
                    f"{account!r} has {MAX_PER_CHANNEL} {channel} sender names already",
                    record=record,
                    field="sender",
                    hint="remove one first",
                )
            added = SenderName(account, channel, sender, self._clock.now())
            await conn.execute(
                sa.insert(_s).values(
                    account=account,
                    channel=channel,
                    sender=sender,
                    position=max(positions.values(), default=0) + 1,
                    created_at=added.created_at,
                )
            )
        return added

    async def remove(self, account: str, channel: str, sender: str) -> bool:
        async with self._engine.begin() as conn:
            result = await conn.execute(
                sa.delete(_s).where(
                    _s.c.account == account, _s.c.channel == channel, _s.c.sender == sender
                )
            )
        return bool(result.rowcount)


__all__ = [
    "SenderExistsError",
    "SenderName",
    "SenderNames",
    "sender_problem",
    "with_default_sender",
]
