"""Every request body the Infobip adapter builds conforms to Infobip's published OpenAPI."""

from __future__ import annotations

import json

import pytest

from peoplesync.messaging.channels.catalog import Channel
from peoplesync.messaging.channels.validation import normalise_phone, validate_message
from peoplesync.messaging.message import Message, Webhooks
from peoplesync.messaging.providers.infobip.requests import build_requests
from tests.infobip_contract import request_errors
from tests.unit.messaging.test_channel_validation import VALID

HOOKS = Webhooks(
    delivery_url="https://people.example.com/hooks/infobip/delivery?k=1",
    seen_url="https://people.example.com/hooks/infobip/seen?k=1",
)

EXTRA: dict[Channel, list[dict[str, object]]] = {
    Channel.SMS: [
        {"language": "TR", "text": "Teşekkürler"},
        {"language": "TR", "transliteration": "TURKISH", "text": "Teşekkürler"},
        {"regional": {"turkeyIys": {"brandCode": "123456", "recipientType": "BIREYSEL"}}},
        {"regional": {"indiaDlt": {"principalEntityId": "1201", "contentTemplateId": "1107"}}},
        {"text": r"Sale \#summer", "trackingUrl": "https://people.example.com/hooks/click"},
    ],
    Channel.LMS: [{"resellerCode": "123456789"}],
    Channel.MMS: [{"text": "With text"}],
    Channel.RCS: [
        {"type": "FILE", "fileUrl": "https://cdn.example.com/f.pdf", "text": None},
        {
            "type": "CARD",
            "text": None,
            "card": {"title": "T", "mediaUrl": "https://cdn.example.com/c.png"},
            "suggestions": [
                {"type": "REPLY", "text": "Yes"},
                {"type": "OPEN_URL", "text": "Open", "url": "https://example.com"},
                {"type": "DIAL_PHONE", "text": "Call", "phoneNumber": "+385911111111"},
                {"type": "SHOW_LOCATION", "text": "Map", "latitude": 45.8, "longitude": 15.9},
                {"type": "REQUEST_LOCATION", "text": "Where?"},
                {
                    "type": "CREATE_CALENDAR_EVENT",
                    "text": "Save",
                    "title": "Sale",
                    "startTime": "2027-01-01T10:00:00Z",
                    "endTime": "2027-01-01T11:00:00Z",
                },
            ],
        },
        {
            "type": "CAROUSEL",
            "text": None,
            "cards": [{"title": "A"}, {"description": "B"}],
        },
    ],
    Channel.VIBER: [{"imageUrl": None, "buttonText": None, "buttonUrl": None}],
    Channel.WHATSAPP: [{"templateLanguage": "en_GB", "placeholders": []}],
    Channel.KAKAO_ALIM: [{"title": "Shipping"}],
    Channel.KAKAO_CHINGU: [{"imageUrl": None}, {"imageLink": "https://example.com/p"}],
    Channel.ZALO: [{"placeholders": {}}],
}


def _cases() -> list[tuple[Channel, dict[str, object]]]:
    cases: list[tuple[Channel, dict[str, object]]] = []
    for channel, base in VALID.items():
        cases.append((channel, dict(base)))
        for change in EXTRA.get(channel, []):
            request = {**base, **change}
            cases.append((channel, {k: v for k, v in request.items() if v is not None}))
    return cases


@pytest.mark.parametrize(("channel", "request_json"), _cases())
def test_request_body_conforms_to_the_openapi_document(
    channel: Channel, request_json: dict[str, object]
) -> None:
    assert validate_message(channel.value, request_json).ok
    message = Message(
        message_id="ps-0001",
        channel=channel,
        to=normalise_phone(str(request_json["to"])),
        request=request_json,
        callback_data=json.dumps({"ContactKey": "003xx", "segment": "vip"}),
    )
    [built] = build_requests([message], bulk_id="bulk-1", webhooks=HOOKS)
    assert request_errors(built.path, built.body) == []
    assert built.message_ids == ("ps-0001",)
    assert "ps-0001" in json.dumps(built.body)


def test_messages_are_grouped_by_channel_and_tracking_options() -> None:
    sms = VALID[Channel.SMS]
    messages = [
        Message(f"m{n}", Channel.SMS, "385912345678", sms | {"text": f"Hi {n}"}) for n in range(3)
    ]
    messages.append(Message("t", Channel.SMS, "385912345678", sms | {"trackClicks": False}))
    messages.append(Message("v", Channel.VIBER, "385912345678", VALID[Channel.VIBER]))
    built = build_requests(messages, bulk_id="b", webhooks=HOOKS)
    assert [request.message_ids for request in built] == [("m0", "m1", "m2"), ("t",), ("v",)]
    assert len({request.body["options"]["schedule"]["bulkId"] for request in built}) == 3


def test_hashtag_escapes_are_sent_as_hashtags() -> None:
    message = Message("h", Channel.SMS, "1", VALID[Channel.SMS] | {"text": r"go \#team"})
    [built] = build_requests([message], bulk_id="b", webhooks=Webhooks())
    assert built.body["messages"][0]["content"]["text"] == "go #team"


@pytest.mark.parametrize("channel", [Channel.SMS, Channel.VIBER, Channel.WHATSAPP])
def test_provider_tracking_reports_clicks_to_the_account_click_url(channel: Channel) -> None:
    hooks = Webhooks(delivery_url=HOOKS.delivery_url, click_url="https://p.example/click?t=1")
    request = dict(VALID[channel]) | {"shortenUrl": True, "trackClicks": True}
    to = normalise_phone(str(request["to"]))
    message = Message("m1", channel, to, request)
    [built] = build_requests([message], bulk_id="b", webhooks=hooks)
    assert request_errors(built.path, built.body) == []
    if channel is Channel.WHATSAPP:
        options = built.body["messages"][0]["urlOptions"]
    else:
        options = built.body["options"]["tracking"]
    assert options == {
        "shortenUrl": True,
        "trackClicks": True,
        "trackingUrl": "https://p.example/click?t=1",
    }
    # A message's own trackingUrl wins; without tracking none is added.
    own = dict(request) | {"trackingUrl": "https://elsewhere.example/c"}
    [kept] = build_requests([Message("m2", channel, to, own)], bulk_id="b", webhooks=hooks)
    assert "elsewhere.example" in json.dumps(kept.body)
    off = dict(request) | {"shortenUrl": False, "trackClicks": False}
    [plain] = build_requests([Message("m3", channel, to, off)], bulk_id="b", webhooks=hooks)
    assert "p.example/click" not in json.dumps(plain.body)
