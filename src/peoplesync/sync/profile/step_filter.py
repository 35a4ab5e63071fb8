"""Inbound step filters: a SOQL WHERE condition, Last Modified within N days, Lead Status in (...).

Conditions are composed with the quoting formatter, guarded so they cannot leave the WHERE
clause, and checked by Salesforce itself with a ``LIMIT 1`` query before a step uses them.
"""

from __future__ import annotations

from collections.abc import Sequence

from peoplesync.errors import ConfigurationError
from peoplesync.salesforce.client import SalesforceClient
from peoplesync.salesforce.failure import SalesforceRequestError
from peoplesync.salesforce.soql import guard_where, soql


def compose_filter(
    *,
    condition: str | None = None,
    modified_within_days: int | None = None,
    lead_statuses: Sequence[str] = (),
) -> str | None:
    """One WHERE condition from the step's filters (None when there are none)."""
    parts: list[str] = []
    if condition:
        parts.append(f"({guard_where(condition, record='step filter')})")
    if modified_within_days is not None:
        if modified_within_days < 1:
            raise ConfigurationError(
                "Last Modified within N days needs N of at least 1", hint="use 1 or more"
            )
        parts.append(f"LastModifiedDate = LAST_N_DAYS:{int(modified_within_days)}")
    if lead_statuses:
        parts.append(soql("Status IN {}", list(lead_statuses)))
    return " AND ".join(parts) or None


async def validate_filter(client: SalesforceClient, sobject: str, condition: str) -> None:
    """Ask Salesforce to run the condition once; a rejection becomes a clear configuration error."""
    query = soql("SELECT Id FROM {:name}", sobject) + f" WHERE {guard_where(condition)} LIMIT 1"
    try:
        async for _ in client.query(query):
            break
    except SalesforceRequestError as error:
        raise ConfigurationError(
            f"Salesforce rejected the {sobject} filter ({error.error_code}): {error.message}",
            hint="fix the condition; it is the part of a SOQL query after WHERE",
        ) from None
