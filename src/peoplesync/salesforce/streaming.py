"""Change Data Capture over the Streaming API: a small Bayeux (CometD) long-polling client.

It hands over batches of change events with their replay ids, re-handshakes when the server
forgets the client, and starts from a stored replay id so nothing is missed across restarts
(within the org's retention window).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from peoplesync.salesforce.client import SalesforceClient
from peoplesync.salesforce.failure import SalesforceUnavailableError

NEW_EVENTS = -1
ALL_RETAINED = -2


class ChangeStream:
    """Subscribes to one channel (``/data/LeadChangeEvent``, ``/data/ChangeEvents``...)."""

    def __init__(
        self,
        client: SalesforceClient,
        channel: str,
        *,
        replay_id: int = NEW_EVENTS,
        poll_timeout: float = 120.0,
    ) -> None:
        self.client = client
        self.channel = channel
        self.replay_id = replay_id
        self.poll_timeout = poll_timeout
        self.client_id: str | None = None
        self._id = 0

    @property
    def path(self) -> str:
        """The CometD endpoint of the client's API version."""
        return f"/cometd/{self.client.api_version}"

    def _next_id(self) -> str:
        self._id += 1
        return str(self._id)

    async def _send(
        self, messages: list[dict[str, Any]], wait_seconds: float | None = None
    ) -> list[dict[str, Any]]:
        response = await self.client.request(
            "POST", self.path, json=messages, wait_seconds=wait_seconds
        )
        body = response.json()
        return body if isinstance(body, list) else [body]

    async def _handshake(self) -> None:
        replies = await self._send(
            [
                {
                    "channel": "/meta/handshake",
                    "version": "1.0",
                    "minimumVersion": "1.0",
                    "supportedConnectionTypes": ["long-polling"],
                    "id": self._next_id(),
                }
            ]
        )
        reply = replies[0]
        if reply.get("error", "").startswith("401"):
            self.client.session = None  # log in again, then try once more
            reply = (
                await self._send(
                    [
                        {
                            "channel": "/meta/handshake",
                            "version": "1.0",
                            "supportedConnectionTypes": ["long-polling"],
                            "id": self._next_id(),
                        }
                    ]
                )
            )[0]
        if not reply.get("successful"):
            raise SalesforceUnavailableError(
                f"streaming handshake failed: {reply.get('error')}", error_code="STREAMING"
            )
        self.client_id = str(reply["clientId"])
        subscribed = (
            await self._send(
                [
                    {
                        "channel": "/meta/subscribe",
                        "clientId": self.client_id,
                        "subscription": self.channel,
                        "id": self._next_id(),
                        "ext": {"replay": {self.channel: self.replay_id}},
                    }
                ]
            )
        )[0]
        if not subscribed.get("successful"):
            error = str(subscribed.get("error"))
            if error.startswith("400") and self.replay_id >= 0:
                # The stored position left the retention window: the caller must resync.
                raise SalesforceUnavailableError(
                    f"replay id {self.replay_id} is no longer retained ({error})",
                    error_code="REPLAY_GAP",
                )
            raise SalesforceUnavailableError(
                f"streaming subscribe failed: {error}", error_code="STREAMING"
            )

    async def batches(self) -> AsyncIterator[list[dict[str, Any]]]:
        """Event batches as they arrive (an empty list when a long poll ends quietly)."""
        while True:
            if self.client_id is None:
                await self._handshake()
            replies = await self._send(
                [
                    {
                        "channel": "/meta/connect",
                        "clientId": self.client_id,
                        "connectionType": "long-polling",
                        "id": self._next_id(),
                    }
                ],
                wait_seconds=self.poll_timeout,
            )
            events = [m for m in replies if not str(m.get("channel", "")).startswith("/meta/")]
            meta = next((m for m in replies if m.get("channel") == "/meta/connect"), {})
            if meta and not meta.get("successful", False):
                error = str(meta.get("error", ""))
                if error.startswith("401"):
                    self.client.session = None
                self.client_id = (
                    None  # 401 or 403::Unknown client: handshake again from the replay id
                )
            for event in events:
                self.replay_id = max(self.replay_id, int(event["data"]["event"]["replayId"]))
            yield events
