"""config.json per activity: absolute HTTPS URLs from the request host, the right type."""

from __future__ import annotations

import pytest

from peoplesync.marketing_cloud.config_json import (
    DELIVERY_OUTCOMES,
    ActivityKind,
    CallPolicy,
    config_json,
    split_unit,
)


def test_the_message_activity_is_a_rest_action_with_message_out_arguments() -> None:
    config = config_json("https://hub.example.org/", "acme", ActivityKind.MESSAGE)
    assert config["workflowApiVersion"] == "1.1"
    assert config["type"] == "REST"
    execute = config["arguments"]["execute"]
    assert execute["url"] == "https://hub.example.org/journey/acme/message/execute"
    assert execute["useJwt"] is True and execute["format"] == "json"
    assert [next(iter(each)) for each in execute["outArguments"]] == ["messageStatus", "messageId"]
    schema_out = config["schema"]["arguments"]["execute"]["outArguments"]
    assert {name for each in schema_out for name in each} == {"messageStatus", "messageId"}
    for step in ("save", "validate", "publish", "stop"):
        assert config["configurationArguments"][step]["url"].endswith(f"/acme/message/{step}")
    assert config["userInterfaces"]["configModal"]["url"].endswith("/journey/acme/message/ui")
    assert "outcomes" not in config


def test_the_delivery_split_routes_on_the_five_report_groups() -> None:
    config = config_json("https://h", "acme", ActivityKind.DELIVERY_SPLIT)
    assert config["type"] == "RESTDECISION"
    branches = [each["arguments"]["branchResult"] for each in config["outcomes"]]
    assert tuple(branches) == DELIVERY_OUTCOMES
    assert config["arguments"]["execute"]["outArguments"] == []


def test_the_reports_activity_exposes_the_report_fields() -> None:
    config = config_json("https://h", "acme", ActivityKind.REPORTS)
    names = [next(iter(each)) for each in config["arguments"]["execute"]["outArguments"]]
    assert {
        "statusName",
        "statusGroupName",
        "errorName",
        "doneAt",
        "sentAt",
        "seenAt",
        "url",
    } <= set(names)


def test_call_policy_stays_within_journey_builders_ranges() -> None:
    config = config_json(
        "https://h", "u", ActivityKind.MESSAGE, policy=CallPolicy(timeout_ms=5_000)
    )
    assert config["arguments"]["execute"]["timeout"] == 5_000
    with pytest.raises(ValueError, match="retry_count"):
        CallPolicy(retry_count=6)
    with pytest.raises(ValueError, match="concurrent_requests"):
        CallPolicy(concurrent_requests=0)


def test_a_customer_key_is_named_in_the_config_and_in_the_path_of_every_url() -> None:
    config = config_json("https://h/", "acme", ActivityKind.MESSAGE, customer_key="sms-salt.1")
    execute = config["arguments"]["execute"]
    assert execute["customerKey"] == "sms-salt.1"
    assert execute["url"] == "https://h/journey/acme~sms-salt.1/message/execute"
    for step in ("save", "validate", "publish", "stop"):
        called = config["configurationArguments"][step]
        assert called["customerKey"] == "sms-salt.1"
        assert called["url"] == f"https://h/journey/acme~sms-salt.1/message/{step}"
    assert config["userInterfaces"]["configModal"]["url"].endswith("/acme~sms-salt.1/message/ui")
    plain = config_json("https://h/", "acme", ActivityKind.MESSAGE)
    assert "customerKey" not in plain["arguments"]["execute"]
    assert "~" not in plain["arguments"]["execute"]["url"]
    assert split_unit("acme~sms-salt.1") == ("acme", "sms-salt.1")
    assert split_unit("acme") == ("acme", None)
    assert split_unit("acme~") == ("acme", "")  # names the empty key: none matches
