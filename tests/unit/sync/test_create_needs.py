"""What a new person needs for the creating outbound steps of a profile (pure)."""

from __future__ import annotations

from peoplesync.sync.outbound.create_needs import needs_by_attribute, profile_needs
from peoplesync.sync.profile.model import default_profile


def test_the_default_profile_needs_last_name_and_company_for_a_lead() -> None:
    needs = profile_needs(default_profile(), "default")
    assert [(n.sobject, n.salesforce_field, n.attribute) for n in needs] == [
        ("Lead", "LastName", "last_name"),
        ("Lead", "Company", "company"),
    ]  # Person to Contact does not create
    assert set(needs_by_attribute(needs)) == {"last_name", "company"}


def test_a_disabled_step_needs_nothing_and_an_unmapped_field_is_named() -> None:
    off = default_profile().set_enabled("Person to Lead", False)
    assert profile_needs(off, "default") == []
    unmapped = default_profile().remove_line("Person to Lead", "LastName")
    (missing,) = [n for n in profile_needs(unmapped, "eu") if n.attribute is None]
    assert (missing.integration, missing.salesforce_field) == ("eu", "LastName")
    assert "no People attribute is mapped to it" in missing.text
