"""The pure inbound decisions: skip, which lines a record contributes, stale fields kept,
converted Leads, duplicates, and the links a batch writes."""

from __future__ import annotations

from datetime import UTC, datetime

from peoplesync.people.model import ExternalLink, Person
from peoplesync.sync.inbound.mapper import InboundValues
from peoplesync.sync.inbound.plan import (
    BatchPlan,
    contribution,
    duplicate_note,
    lead_conversion,
    passes_over,
    person_input,
    source,
)
from peoplesync.sync.inbound.step import InboundStep
from peoplesync.sync.mapping import FieldMapping
from peoplesync.sync.outbound.push_mark import MARK, marked

NOW = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
LINES = (FieldMapping("FirstName", "first_name"), FieldMapping("Title", "title"))
STEP = InboundStep("Lead", LINES)


def _link(state: dict[str, object]) -> ExternalLink:
    return ExternalLink("person", "p1", STEP.system, "Lead", "00Q1", state, NOW)


def test_an_unchanged_record_is_passed_over_unless_forced() -> None:
    snapshot = {"FirstName": "Ada", "Title": "Eng"}
    link = _link(dict(snapshot))
    assert passes_over(STEP, link, snapshot, force=False)
    assert not passes_over(STEP, link, snapshot, force=True)
    assert not passes_over(STEP, link, {**snapshot, "Title": "CTO"}, force=False)


def test_switches_pass_over_new_or_linked_records() -> None:
    no_create = InboundStep("Lead", LINES, create=False)
    no_update = InboundStep("Lead", LINES, update=False)
    snapshot = {"FirstName": "Ada"}
    assert passes_over(no_create, None, snapshot, force=True)
    assert not passes_over(no_create, _link({}), snapshot, force=True)
    assert passes_over(no_update, _link({}), snapshot, force=True)
    assert not passes_over(no_update, None, snapshot, force=True)


def test_a_linked_record_contributes_only_its_changed_fields() -> None:
    record = {"Id": "00Q1", "FirstName": "Ada", "Title": "CTO"}
    snapshot = {"FirstName": "Ada", "Title": "CTO"}
    link = _link({"FirstName": "Ada", "Title": "Eng"})
    applied = contribution(LINES, record, snapshot, link, force=False)
    assert [line.salesforce_field for line in applied.lines] == ["Title"]
    assert contribution(LINES, record, snapshot, link, force=True).lines == LINES
    assert contribution(LINES, record, snapshot, None, force=False).lines == LINES


def test_a_field_read_before_a_push_wrote_it_is_stale_and_keeps_the_pushed_value() -> None:
    pushed = marked({"FirstName": "Ada", "Title": "Eng"}, {"Title": "CTO"}, NOW)
    # Read with a modstamp before the push: Title still holds the value from before it.
    record = {
        "Id": "00Q1",
        "FirstName": "Ada",
        "Title": "Eng",
        "SystemModstamp": "2026-12-05T08:59:00.000+0000",
    }
    snapshot = {"FirstName": "Ada", "Title": "Eng"}
    link = _link(pushed)
    applied = contribution(LINES, record, snapshot, link, force=False)
    assert applied.stale == frozenset({"Title"})
    assert applied.lines == ()
    _, kept = source(record, snapshot, link, applied.stale)
    assert kept["Title"] == "CTO" and MARK in kept


def test_without_drops_the_lines_people_keeps() -> None:
    applied = contribution(LINES, {"Id": "x"}, {}, None, force=False).without({"FirstName"})
    assert [line.salesforce_field for line in applied.lines] == ["Title"]


def test_a_converted_lead_warns_and_links_the_person_to_its_contact() -> None:
    record = {"Id": "00Q1", "IsConverted": True, "ConvertedContactId": "003A"}
    found = lead_conversion(STEP, record, _link({}), NOW)
    assert found is not None
    assert "converted to contact 003A" in found.warning
    assert found.contact_link == ExternalLink(
        "person", "p1", STEP.system, "Contact", "003A", {}, NOW
    )
    unlinked = lead_conversion(STEP, record, None, NOW)
    assert unlinked is not None and unlinked.contact_link is None
    assert lead_conversion(STEP, {"Id": "00Q2"}, None, NOW) is None
    assert lead_conversion(InboundStep("Contact", LINES), record, None, NOW) is None


def test_a_duplicate_names_both_records() -> None:
    note = duplicate_note(STEP, {"Id": "00Q2"}, "00Q1")
    assert "Lead 00Q2 has the email of Lead 00Q1" in note


def test_a_linked_person_is_written_at_the_version_it_was_decided_on() -> None:
    person = Person("p1", 7, (), (), {}, {}, None, NOW, NOW)
    mapped = InboundValues({"title": "CTO"}, None, ["+15551234567"])
    written = person_input(STEP, {"Id": "00Q1"}, mapped, _link({}), person)
    assert (written.id, written.version, written.key) == ("p1", 7, "Lead 00Q1")
    assert written.emails is None and written.phones == ["+15551234567"]
    new = person_input(STEP, {"Id": "00Q9"}, mapped, None, None)
    assert (new.id, new.version) == (None, None)


def test_the_batch_links_written_entities_and_skips_rejected_ones() -> None:
    plan = BatchPlan("company")
    plan.add("first", ({"Id": "001A"}, {"Name": "A"}))
    plan.add("second", ({"Id": "001B"}, {"Name": "B"}))
    extra = ExternalLink("person", "p1", STEP.system, "Contact", "003A", {}, NOW)
    plan.extra_links.append(extra)
    made = plan.links(STEP, ["c1", None], NOW)
    assert [(link.entity_type, link.entity_id, link.external_id) for link in made] == [
        ("company", "c1", "001A"),
        ("person", "p1", "003A"),
    ]
    assert made[0].state == {"Name": "A"}
