"""Step filters composed, guarded, validated by the org, and applied by the runner."""

from __future__ import annotations

import pytest

from peoplesync.clock import SystemClock
from peoplesync.errors import ConfigurationError
from peoplesync.salesforce.soql import SoqlFormatError
from peoplesync.sync.inbound.runner import InboundRunner, InboundStep
from peoplesync.sync.mapping import DEFAULT_MAPPINGS
from peoplesync.sync.profile.step_filter import compose_filter, validate_filter

from .conftest import World


def test_compose() -> None:
    assert compose_filter() is None
    assert compose_filter(
        condition="LeadSource = 'Web'",
        modified_within_days=30,
        lead_statuses=["Open - Not Contacted", "O'Brien"],
    ) == (
        "(LeadSource = 'Web') AND LastModifiedDate = LAST_N_DAYS:30 AND Status IN ('Open - Not Contacted', 'O\\'Brien')"
    )
    with pytest.raises(SoqlFormatError):
        compose_filter(condition="Id != null LIMIT 1")
    with pytest.raises(ConfigurationError):
        compose_filter(modified_within_days=0)


async def test_filters_are_validated_and_applied(world: World) -> None:
    org = world.org
    await org.create("Lead", LastName="Web", Company="A", Email="web@example.com", LeadSource="Web")
    await org.create(
        "Lead", LastName="Phone", Company="B", Email="phone@example.com", LeadSource="Phone Inquiry"
    )
    client = world.leads.client
    condition = compose_filter(
        condition="LeadSource = 'Web'", lead_statuses=["Open - Not Contacted"]
    )
    assert condition is not None
    await validate_filter(client, "Lead", condition)
    with pytest.raises(ConfigurationError, match="INVALID_FIELD"):
        await validate_filter(client, "Lead", "Sauce__c = 'hot'")
    step = InboundStep("Lead", DEFAULT_MAPPINGS["Lead"], condition=condition)
    report = await InboundRunner(client, world.store, step, SystemClock()).run_once()
    assert (report.read, report.created) == (1, 1)
    assert list(await world.store.find_by_emails(["web@example.com", "phone@example.com"])) == [
        "web@example.com"
    ]
