"""The sandbox's journey YAML read into dataclasses, its bindings resolved per contact and
its decision splits routed, all without I/O."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from peoplesync.sandbox.marketing_cloud.journey_bindings import (
    ContactData,
    check_journey,
    parts,
    resolve,
    resolve_arguments,
    route,
)
from peoplesync.sandbox.marketing_cloud.journey_calls import call_policy
from peoplesync.sandbox.marketing_cloud.journey_model import JourneyProblem, load_journey

JOURNEY: dict[str, Any] = {
    "name": "spring",
    "entry": {"data_extension": "audience", "event_definition_key": "DEAudience-1"},
    "activities": [
        {
            "key": "SMS-1",
            "type": "custom",
            "config_url": "https://ps.example/journey/acme/message/config.json",
            "in_arguments": [{"phone": '{{Event.DEAudience-1."Mobile"}}'}],
            "next": "WAIT-1",
        },
        {"key": "WAIT-1", "type": "wait", "seconds": 2, "next": "SPLIT-1"},
        {
            "key": "SPLIT-1",
            "type": "decision_split",
            "branches": [
                {
                    "label": "delivered",
                    "when": {"value": "{{Interaction.SMS-1.state}}", "equals": "DELIVERED"},
                    "next": "REPLY-1",
                },
                {
                    "label": "failed",
                    "when": {"value": "{{Interaction.SMS-1.state}}", "in": ["REJECTED", "X"]},
                    "next": None,
                },
                {"label": "remainder", "next": None},
            ],
        },
        {
            "key": "REPLY-1",
            "type": "wait_until_event",
            "event_definition_key": "Reply",
            "timeout_seconds": 60,
            "next": None,
        },
    ],
}


def _with(path: list[Any], value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(JOURNEY)
    where: Any = changed
    for step in path[:-1]:
        where = where[step]
    if value is None:
        del where[path[-1]]
    else:
        where[path[-1]] = value
    return changed


def _contact(**outputs: dict[str, Any]) -> ContactData:
    return ContactData(
        contact_key="C-1",
        event_key="DEAudience-1",
        entry_names=("Audience", "audience"),
        row={"Mobile": "+385911", "First Name": "Ana", "Age": 41},
        context={"DefinitionInstanceId": "run-1"},
        outputs=outputs,
        activity_id="act-1",
    )


def test_a_journey_loads_with_its_defaults() -> None:
    journey = load_journey(JOURNEY)
    assert [a.key for a in journey.activities] == ["SMS-1", "WAIT-1", "SPLIT-1", "REPLY-1"]
    assert journey.first.key == "SMS-1"
    assert journey.activity("WAIT-1").seconds == 2.0
    reply = journey.activity("REPLY-1")
    assert reply.timeout_next is None and reply.event_definition_key == "Reply"
    assert journey.activity("SPLIT-1").branches[1].when is not None
    entry = load_journey(_with(["entry", "event_definition_key"], None)).entry
    assert entry.event_definition_key == "DEAudience-spring"  # named after the journey


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (["activities", 1, "seconds"], -1, "activity WAIT-1: seconds must be a number"),
        (["activities", 1, "next"], "NOPE", "activity WAIT-1: goes to NOPE, which is not"),
        (["activities", 0, "config_url"], "ftp://x", "activity SMS-1: config_url must be"),
        (["activities", 0, "config_url"], None, "activity SMS-1: config_url is required"),
        (["activities", 0, "type"], "email", "activity SMS-1: type 'email' is not one of"),
        (["activities", 1, "key"], "SMS-1", "activities: key SMS-1 is used twice"),
        (["activities", 3, "next"], "SMS-1", "activity REPLY-1: going to SMS-1 makes a loop"),
        (["activities", 2, "branches", 2, "when"], {"value": "x", "equals": "y"}, "remainder"),
        (["activities", 2, "branches", 0, "when", "in"], ["A"], "give exactly one of"),
        (["entry", "event_definition_key"], "a.b", "must not contain a period"),
        (["activities"], [], "activities must be a non-empty list"),
        (["activities", 0, "in_arguments"], [{"a": 1, "b": 2}], "single-key mappings"),
    ],
)
def test_a_bad_journey_names_the_activity_and_field(
    path: list[Any], value: Any, message: str
) -> None:
    with pytest.raises(JourneyProblem) as raised:
        load_journey(_with(path, value))
    assert message in raised.value.message


def test_a_bad_binding_is_refused_before_the_run() -> None:
    broken = _with(["activities", 0, "in_arguments"], [{"phone": "{{Profile.Mobile}}"}])
    with pytest.raises(JourneyProblem) as raised:
        check_journey(load_journey(broken))
    assert "activity SMS-1 in_arguments.phone" in raised.value.message
    assert "starts with Profile" in raised.value.message
    check_journey(load_journey(JOURNEY))


def test_binding_paths_split_on_dots_outside_quotes() -> None:
    assert parts('Event.DEAudience-1."First Name"') == ["Event", "DEAudience-1", "First Name"]
    assert parts('Contact.Attribute."Audience"."a.b"') == [
        "Contact",
        "Attribute",
        "Audience",
        "a.b",
    ]
    assert parts("Contact.Key") == ["Contact", "Key"]


def test_bindings_resolve_for_one_contact() -> None:
    data = _contact(**{"SMS-1": {"messageId": "m-9"}})
    assert resolve("{{Contact.Key}}", data) == "C-1"
    assert resolve('{{Event.DEAudience-1."Mobile"}}', data) == "+385911"
    assert resolve("{{Event.DEAudience-1.Age}}", data) == 41  # one binding keeps its type
    assert resolve('Hi {{Event.DEAudience-1."First Name"}}, {{Event.DEAudience-1.Age}}', data) == (
        "Hi Ana, 41"
    )
    assert resolve('{{Contact.Attribute."Audience"."First Name"}}', data) == "Ana"
    assert resolve("{{Contact.Attribute.Other.Mobile}}", data) == ""
    assert resolve("{{Event.DEAudience-2.Mobile}}", data) == ""  # another event's data
    assert resolve("{{Event.DEAudience-1.mobile}}", data) == ""  # names keep their case
    assert resolve("{{Interaction.SMS-1.messageId}}", data) == "m-9"
    assert resolve("{{Context.DefinitionInstanceId}}", data) == "run-1"
    assert resolve("{{Activity.Id}}", data) == "act-1"
    assert resolve(True, data) is True
    assert resolve_arguments(({"to": "{{Contact.Key}}"}, {"n": 1}), data) == [
        {"to": "C-1"},
        {"n": 1},
    ]


@pytest.mark.parametrize(
    ("state", "label"),
    [("DELIVERED", "delivered"), ("REJECTED", "failed"), ("X", "failed"), ("", "remainder")],
)
def test_a_split_takes_the_first_branch_that_holds(state: str, label: str) -> None:
    split = load_journey(JOURNEY).activity("SPLIT-1")
    assert route(split.branches, _contact(**{"SMS-1": {"state": state}})).label == label


def test_config_json_is_read_with_its_call_policy() -> None:
    activity = load_journey(JOURNEY).first
    config: dict[str, Any] = {
        "type": "RESTDECISION",
        "arguments": {
            "execute": {
                "url": "https://ps.example/execute",
                "useJwt": True,
                "timeout": 2_000,
                "retryCount": 2,
                "retryDelay": 500,
                "concurrentRequests": 7,
                "inArguments": [{"contactKey": "{{Contact.Key}}"}],
            }
        },
        "configurationArguments": {"save": {"url": "https://ps.example/save", "useJwt": True}},
        "outcomes": [{"arguments": {"branchResult": "DELIVERED"}}],
    }
    policy = call_policy(config, activity)
    assert (policy.timeout_seconds, policy.retry_count, policy.retry_delay_seconds) == (
        2.0,
        2,
        0.5,
    )
    assert policy.concurrent_requests == 7 and policy.use_jwt and policy.decision
    assert policy.outcomes == ("DELIVERED",)
    assert policy.lifecycle == {"save": ("https://ps.example/save", True)}
    config["arguments"]["execute"]["retryCount"] = 9
    with pytest.raises(JourneyProblem) as raised:
        call_policy(config, activity)
    assert raised.value.message == (
        "activity SMS-1 config.json: arguments.execute.retryCount is 0 to 5"
    )
