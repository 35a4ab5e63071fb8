"""Pure rules of the operator surface: account fields, sender names, list filters, requests."""

from __future__ import annotations

import pytest

from peoplesync.errors import ValidationError
from peoplesync.messaging.accounts import account_problems
from peoplesync.messaging.message_list import MessageFilter
from peoplesync.messaging.send_request import SendRequest
from peoplesync.messaging.sender_names import sender_problem, with_default_sender


@pytest.mark.parametrize(
    ("name", "base_url", "api_key", "fields"),
    [
        ("", "", "", ["name", "base_url", "api_key"]),
        ("main", "https://x.api.infobip.com", "k", []),
        ("main", "http://127.0.0.1:8444", "k", []),
        (" main", "https://x.test", "k", ["name"]),
        ("a/b", "https://x.test", "k", ["name"]),
        ("main", "x.api.infobip.com", "k", ["base_url"]),
        ("main", "ftp://x.test", "k", ["base_url"]),
        ("main", "https://", "k", ["base_url"]),
        ("main", "https://x.test/" + "p" * 500, "k", ["base_url"]),
        ("main", "https://x.test", "  ", ["api_key"]),
    ],
)
def test_account_fields(name: str, base_url: str, api_key: str, fields: list[str]) -> None:
    assert [p.field for p in account_problems(name, base_url, api_key, "infobip")] == fields


def test_an_account_problem_names_record_and_field_but_never_the_key() -> None:
    [problem] = account_problems("main", "nope", "secret-key", "infobip")
    assert str(problem).startswith("record main, field 'base_url': base URL 'nope'")
    assert "secret-key" not in str(problem)
    [kind] = account_problems("main", "https://x.test", "k", "twilio")
    assert kind.field == "kind"


def test_sender_names_follow_the_channels_sender_length() -> None:
    assert sender_problem("sms", "InfoSMS", record="r") is None
    too_long = sender_problem("sms", "x" * 16, record="main/sms")
    assert too_long is not None and too_long.field == "sender" and "at most 15" in too_long.detail
    assert sender_problem("kakao-alim", "x" * 40, record="r") is None
    blank = sender_problem("sms", " ", record="r")
    assert blank is not None and blank.field == "sender"
    unknown = sender_problem("fax", "A", record="r")
    assert unknown is not None and unknown.field == "channel"


def test_the_first_sender_name_is_the_default() -> None:
    names = {"sms": ["InfoSMS", "Backup"]}
    assert with_default_sender("sms", {"to": "1"}, names) == {"to": "1", "from": "InfoSMS"}
    assert with_default_sender("sms", {"to": "1", "from": ""}, names)["from"] == "InfoSMS"
    assert with_default_sender("sms", {"to": "1", "from": "Own"}, names)["from"] == "Own"
    assert with_default_sender("viber", {"to": "1", "from": ""}, names) == {"to": "1"}


def test_list_filters_are_checked_and_the_number_reduced_to_digits() -> None:
    assert MessageFilter("sms", "delivered", "+385 91-23").check().number == "3859123"
    assert MessageFilter(number="50%_").check().number == "50"  # no LIKE wildcards
    for wanted, field in [
        (MessageFilter(channel="fax"), "channel"),
        (MessageFilter(state="lost"), "state"),
        (MessageFilter(number="ana"), "number"),
    ]:
        with pytest.raises(ValidationError) as raised:
            wanted.check()
        assert raised.value.field == field


def test_an_operators_request_gets_the_channels_defaults() -> None:
    sms = SendRequest("sms", "+385911234567", "Hi", extra={"trackClicks": True}).request()
    assert sms == {"to": "+385911234567", "shortenUrl": False, "trackClicks": True, "text": "Hi"}
    viber = SendRequest("viber", "1", "Hi", "Brand").request()
    assert viber["isPromotional"] is False and viber["from"] == "Brand"
    assert SendRequest("mms", "1").request() == {"to": "1"}
