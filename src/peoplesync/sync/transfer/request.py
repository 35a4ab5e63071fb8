"""What a person asks of a transfer (Last Modified window, Lead Status, SOQL filter, steps),
checked before anything runs: each problem is an error naming its field."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from peoplesync.errors import ConfigurationError, RecordError, ValidationError
from peoplesync.salesforce.soql import soql
from peoplesync.sync.profile.step_filter import compose_filter

MAX_DAYS = 36_500
MAX_FILTER = 4_000
MAX_STATUSES = 50
MAX_RETRY_IDS = 2_000
_SALESFORCE_ID = re.compile(r"^[A-Za-z0-9]{15}([A-Za-z0-9]{3})?$")


@dataclass(frozen=True)
class TransferRequest:
    """A transfer's own filters; empty means every record matching the steps' filters."""

    modified_within_days: int | None = None
    lead_statuses: tuple[str, ...] = ()
    condition: str | None = None
    steps: tuple[str, ...] = ()

    def asked(self) -> dict[str, Any]:
        """As shown back to the person (and stored with the job)."""
        return {
            "modified_within_days": self.modified_within_days,
            "lead_statuses": list(self.lead_statuses),
            "filter": self.condition,
            "steps": list(self.steps),
        }


def invalid_field(message: str, field: str, hint: str = "") -> ValidationError:
    return ValidationError(message, record="transfer", field=field, hint=hint)


def parse_request(
    *,
    modified_within_days: str | int | None = None,
    lead_statuses: Iterable[str] = (),
    condition: str | None = None,
    steps: Iterable[str] = (),
) -> TransferRequest:
    """A checked request from form or JSON values (blank values mean "not set")."""
    days: int | None = None
    if isinstance(modified_within_days, str):
        modified_within_days = modified_within_days.strip() or None
    if modified_within_days is not None:
        try:
            days = int(modified_within_days)
        except ValueError:
            raise invalid_field(
                "Last Modified within N days needs a whole number", "modified_within_days"
            ) from None
        if not 1 <= days <= MAX_DAYS:
            raise invalid_field(
                f"Last Modified within N days needs N from 1 to {MAX_DAYS}",
                "modified_within_days",
            )
    statuses = tuple(dict.fromkeys(s.strip() for s in lead_statuses if s.strip()))
    if len(statuses) > MAX_STATUSES:
        raise invalid_field(f"at most {MAX_STATUSES} Lead Status values", "lead_status")
    for status in statuses:
        if any(ord(char) < 32 for char in status):
            raise invalid_field("control characters are not allowed", "lead_status")
        if len(status) > 255:
            raise invalid_field("a Lead Status value is at most 255 characters", "lead_status")
    text = (condition or "").strip() or None
    if text is not None and "\x00" in text:
        raise invalid_field("control characters are not allowed", "filter")
    if text is not None and len(text) > MAX_FILTER:
        raise invalid_field(f"the SOQL filter is at most {MAX_FILTER} characters", "filter")
    request = TransferRequest(days, statuses, text, tuple(s for s in steps if s.strip()))
    check_filters(request)
    return request


def check_filters(request: TransferRequest) -> None:
    """Compose the filters once (as the transfer will) so a malformed condition is refused
    before anything runs."""
    try:
        compose_filter(
            condition=request.condition,
            modified_within_days=request.modified_within_days,
            lead_statuses=request.lead_statuses,
        )
    except RecordError as error:
        raise invalid_field(error.detail, "filter", error.hint) from None
    except ConfigurationError as error:
        raise invalid_field(error.message, "modified_within_days", error.hint) from None


def check_steps(request: TransferRequest, enabled: Sequence[str]) -> list[str]:
    """The steps the transfer runs (every enabled one when none is named)."""
    unknown = sorted(set(request.steps) - set(enabled))
    if unknown:
        raise invalid_field(
            f"no enabled inbound step named {', '.join(unknown)}",
            "steps",
            f"enabled steps: {', '.join(enabled) or 'none'}",
        )
    return [s for s in enabled if not request.steps or s in request.steps]


def retry_conditions(
    problems: Sequence[Mapping[str, Any]], enabled: Sequence[str]
) -> dict[str, str]:
    """A condition per inbound step reading its failed records again (``Id IN (...)``);
    problems of other steps (pushes, by person) and warnings are left out."""
    ids: dict[str, list[str]] = {}
    for problem in problems:
        step, record = problem["step"], problem["record_id"]
        if problem["severity"] != "error" or step not in enabled:
            continue
        if _SALESFORCE_ID.match(record):
            kept = ids.setdefault(step, [])
            if record not in kept and len(kept) < MAX_RETRY_IDS:
                kept.append(record)
    return {step: soql("Id IN {}", records) for step, records in ids.items() if records}


__all__ = ["TransferRequest", "check_steps", "invalid_field", "parse_request", "retry_conditions"]
