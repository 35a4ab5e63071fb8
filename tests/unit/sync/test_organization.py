"""Which org an integration is on, and a new integration's outbound steps held for review."""

from __future__ import annotations

import pytest

from peoplesync.errors import ValidationError
from peoplesync.sync.organization import holder_of, organization_of, same_org
from peoplesync.sync.profile.format import read_profile
from peoplesync.sync.profile.model import default_profile
from peoplesync.web.salesforce_connect import ConnectRequest, Environment, free_name


def test_the_org_id_comes_from_the_identity_url() -> None:
    url = "https://login.salesforce.com/id/00Dxx0000001gPLEAY/005xx000001SwiUAAS"
    assert organization_of(url) == "00Dxx0000001gPLEAY"
    assert organization_of("https://acme.my.salesforce.com/id/00D8d0000000001/0058d0000000001")
    assert organization_of("https://example.com/services/oauth2/token") is None
    assert organization_of(None) is None


def test_an_org_is_held_by_at_most_one_integration() -> None:
    assert same_org("00Dxx0000001gPL", "00Dxx0000001gPLEAY")  # 15 and 18 characters
    assert not same_org("00Dxx0000001gPL", "00Dxx0000001gPM")
    stored = [("default", "00Dxx0000001gPLEAY"), ("old", None), ("eu", "00Dyy0000001abc")]
    assert holder_of("00Dxx0000001gPL", stored) == "default"
    assert holder_of("00Dzz0000001xyz", stored) is None


def test_a_new_integrations_outbound_steps_await_review_until_enabled() -> None:
    held = default_profile().held_for_review()
    assert held.awaiting_review() == ["Person to Lead", "Person to Contact"]
    assert held.outbound_steps() == ()  # the push runner gets nothing to write
    assert [s.name for s in held.outbound_steps(preview=True)] == held.awaiting_review()
    assert all(s.enabled for s in held.steps if s.name in ("Account", "Lead", "Contact"))
    # Stored and read back (configuration as code) it stays held.
    assert read_profile(held.to_dict()) == held
    enabled = held.set_enabled("Person to Lead", True)
    assert enabled.awaiting_review() == ["Person to Contact"]
    assert [s.name for s in enabled.outbound_steps()] == ["Person to Lead"]
    assert enabled.set_enabled("Person to Contact", False).awaiting_review() == []
    assert "awaiting_review" not in default_profile().to_dict()["steps"][3]


def test_the_connect_form_proposes_a_free_name_and_refuses_a_taken_one() -> None:
    assert free_name([]) == "default"
    assert free_name(["default", "org-2"]) == "org-3"
    request = ConnectRequest("", Environment.PRODUCTION, "key")
    assert request.checked(["default"]).name == "org-2"
    taken = ConnectRequest("Default", Environment.PRODUCTION, "key")
    with pytest.raises(ValidationError) as refused:
        taken.checked(["default"])
    assert refused.value.field == "name" and "exists already" in refused.value.detail
    reconnect = ConnectRequest("default", Environment.PRODUCTION, "key", reconnect=True)
    assert reconnect.checked(["default"]).reconnect
    assert not reconnect.checked([]).reconnect  # nothing to reconnect: a new integration
