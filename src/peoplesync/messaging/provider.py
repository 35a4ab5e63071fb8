"""The seam every message provider sits behind."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from peoplesync.messaging.message import Message, SendResult, Webhooks


class Provider(Protocol):
    """Sends messages; one result a message, in the order given."""

    async def send(
        self, messages: Sequence[Message], *, bulk_id: str, webhooks: Webhooks
    ) -> list[SendResult]: ...
