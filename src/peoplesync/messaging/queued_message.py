"""A message as the outbox stores it: its state, the provider's answer, who holds it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

QUEUED, SENDING, ACCEPTED, REJECTED, INVALID = (
    "queued",
    "sending",
    "accepted",
    "rejected",
    "invalid",
)


@dataclass(frozen=True)
class QueuedMessage:
    id: str
    idempotency_key: str
    account: str
    channel: str
    recipient: str
    request: dict[str, Any]
    callback_data: str | None
    limit_key: str | None
    state: str
    status: str
    detail: str
    attempts: int
    send_after: datetime
    created_at: datetime
    sent_at: datetime | None
    provider_status: str | None
    person_id: str | None
    claimed_by: str | None = None  # the claim that holds it while it is being sent


def queued_message(row: sa.RowMapping) -> QueuedMessage:
    """A stored row as a message."""
    return QueuedMessage(
        id=row["id"],
        idempotency_key=row["idempotency_key"],
        account=row["account"],
        channel=row["channel"],
        recipient=row["recipient"],
        request=dict(row["request"]),
        callback_data=row["callback_data"],
        limit_key=row["limit_key"],
        state=row["state"],
        status=row["status"],
        detail=row["detail"],
        attempts=row["attempts"],
        send_after=row["send_after"],
        created_at=row["created_at"],
        sent_at=row["sent_at"],
        provider_status=row["provider_status"],
        person_id=row["person_id"],
        claimed_by=row["claimed_by"],
    )
