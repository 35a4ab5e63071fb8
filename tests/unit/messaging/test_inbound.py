"""Parsing inbound replies (MO): Infobip's documented shapes, bad entries named."""

from __future__ import annotations

from datetime import UTC, datetime

from peoplesync.messaging.inbound import parse_inbound
from peoplesync.sandbox.provider.inbound import check_reply, inbound_payload, keyword_of
from peoplesync.sandbox.provider.store import InboundReply
from tests.infobip_contract import document, webhook_errors


def _documented_example() -> dict[str, object]:
    hook = document("infobip-sms-openapi.json")["webhooks"]["receive-inbound-sms-messages"]
    examples = hook["post"]["requestBody"]["content"]["application/json"]["examples"]
    value: dict[str, object] = next(iter(examples.values()))["value"]
    return value


def test_the_documented_sms_example_parses() -> None:
    parsed = parse_inbound(_documented_example())
    assert parsed.errors == []
    [reply] = parsed.reports
    assert (reply.message_id, reply.sender, reply.recipient) == (
        "817790313235066447",
        "385916242493",
        "385921004026",
    )
    assert (reply.text, reply.clean_text, reply.keyword) == (
        "QUIZ Correct answer is Paris",
        "Correct answer is Paris",
        "QUIZ",
    )
    assert reply.received_at == datetime(2019, 11, 9, 16, 0, tzinfo=UTC)
    assert (reply.channel, reply.message_count, reply.price, reply.currency) == (
        "sms",
        1,
        0.0,
        "EUR",
    )
    assert reply.callback_data == "callbackData"


def test_an_ott_reply_takes_its_channel_and_text_from_the_message() -> None:
    parsed = parse_inbound(
        {
            "results": [
                {
                    "sender": "385916242493",
                    "to": "Brand",
                    "integrationType": "VIBER",
                    "messageId": "v-1",
                    "message": {"type": "TEXT", "text": "Yes please"},
                },
                {
                    "from": "385916242493",
                    "to": "447860099299",
                    "integrationType": "WHATSAPP",
                    "messageId": "w-1",
                    "message": {"type": "IMAGE", "url": "https://cdn.example.com/p.jpg"},
                },
            ]
        }
    )
    assert parsed.errors == []
    assert [(r.channel, r.sender, r.text, r.keyword) for r in parsed.reports] == [
        ("viber", "385916242493", "Yes please", None),
        ("whatsapp", "385916242493", "https://cdn.example.com/p.jpg", None),
    ]


def test_bad_entries_are_named_and_the_rest_kept() -> None:
    parsed = parse_inbound(
        {
            "results": [
                "nope",
                {"messageId": "a", "from": "1", "to": "2"},
                {"messageId": "b", "from": "1", "to": "2", "text": "ok", "smsCount": "2"},
                {"messageId": "c", "from": "1", "to": "2", "integrationType": "FAX", "text": "x"},
                {"messageId": "d", "from": "1" * 51, "to": "2", "text": "x"},
                {"messageId": "e", "from": "+1", "to": "2", "text": "fine"},
            ]
        }
    )
    assert [str(e).split(" (how")[0] for e in parsed.errors] == [
        "record results[0]: is not an object",
        "record results[1] (message a), field 'text': is missing",
        "record results[2] (message b), field 'smsCount': is not a whole number",
        "record results[3] (message c), field 'integrationType': 'FAX' is not a channel "
        "peoplesync knows",
        "record results[4] (message d), field 'from': is too long",
    ]
    assert [(r.message_id, r.sender) for r in parsed.reports] == [("e", "1")]
    assert parse_inbound([1]).errors[0].field == "results"


def test_the_sandbox_keyword_rule_and_payload() -> None:
    assert keyword_of("QUIZ Correct answer is Paris") == ("QUIZ", "Correct answer is Paris")
    assert keyword_of("STOP") == ("STOP", "")
    assert keyword_of("Yes STOP") == (None, "Yes STOP")
    assert keyword_of("A b") == (None, "A b")  # one letter is not a keyword
    reply = InboundReply("m", "385911234567", "385981000000", "x" * 161, 0.0, "https://h")
    payload = inbound_payload(reply, "2027-01-15T08:00:00.000+0000")
    assert payload["results"][0]["smsCount"] == 2
    assert "keyword" not in payload["results"][0]
    assert webhook_errors("infobip-sms-openapi.json", "receive-inbound-sms-messages", payload) == []
    assert check_reply({"from": "+385911234567", "to": "385981000000", "text": "hi"}) == []
    assert [p for p, _ in check_reply({"from": "x", "to": "1", "text": "y" * 1601})] == [
        "from",
        "to",
        "text",
    ]
