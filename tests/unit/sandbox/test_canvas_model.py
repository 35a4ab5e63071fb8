"""The canvas' pure rules: config.json addresses, the framed page, keys, accepted updates."""

from __future__ import annotations

import pytest

from peoplesync.sandbox.marketing_cloud.canvas_model import (
    CanvasProblem,
    accept_update,
    config_url,
    next_key,
    step_call,
    ui_url,
)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (
            "https://p.example/journey/acme/message/",
            "https://p.example/journey/acme/message/config.json",
        ),
        (
            "https://p.example/journey/acme/message",
            "https://p.example/journey/acme/message/config.json",
        ),
        ("http://p.example/a/config.json", "http://p.example/a/config.json"),
    ],
)
def test_an_endpoint_or_its_config_json_is_accepted(given: str, expected: str) -> None:
    assert config_url(given) == expected


@pytest.mark.parametrize("given", ["", "p.example/x", "file:///etc/passwd", "javascript:1"])
def test_other_addresses_are_refused(given: str) -> None:
    with pytest.raises(CanvasProblem, match="is not an http"):
        config_url(given)


def test_the_framed_page_is_the_config_modal_url_or_index_html() -> None:
    url = "https://p.example/act/config.json"
    assert (
        ui_url({"userInterfaces": {"configModal": {"url": "ui"}}}, url)
        == "https://p.example/act/ui"
    )
    assert ui_url({"userInterfaces": {"configModal": {"url": "https://o.example/u"}}}, url) == (
        "https://o.example/u"
    )
    assert ui_url({}, url) == "https://p.example/act/index.html"


def test_keys_count_per_type_and_fill_gaps() -> None:
    assert next_key([], "REST") == "REST-1"
    assert next_key([{"key": "REST-1"}, {"key": "REST-3"}], "REST") == "REST-2"
    assert next_key([{"key": "REST-1"}], "RESTDECISION") == "RESTDECISION-1"


def test_an_update_keeps_the_canvas_key_and_id() -> None:
    held = {"key": "REST-1", "id": "a"}
    kept = accept_update(held, {"key": "X", "id": "b", "arguments": {"execute": {}}})
    assert (kept["key"], kept["id"]) == ("REST-1", "a")
    with pytest.raises(CanvasProblem, match="REST-1: arguments must be an object"):
        accept_update(held, {"arguments": []})


def test_a_step_without_an_endpoint_is_none_and_timeouts_are_in_seconds() -> None:
    activity = {"configurationArguments": {"save": {"url": "https://p/save", "timeout": 5000}}}
    assert step_call(activity, "save") == ("https://p/save", False, 5.0)
    assert step_call(activity, "publish") is None
