"""Every channel's validation table: each seed status for each channel it applies to."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from peoplesync.messaging.channels.catalog import Channel
from peoplesync.messaging.channels.message_status import MessageStatus as S
from peoplesync.messaging.channels.text import unescape_hashtags
from peoplesync.messaging.channels.validation import normalise_phone, validate_message

SCENARIO = "0123456789ABCDEF0123456789ABCDEF"

VALID: dict[Channel, dict[str, Any]] = {
    Channel.SMS: {"to": "+385 91 234 5678", "text": "Hi", "shortenUrl": True, "trackClicks": True},
    Channel.LMS: {
        "to": "821012345678",
        "text": "Long",
        "title": "Sale",
        "shortenUrl": False,
        "trackClicks": False,
    },
    Channel.MMS: {
        "to": "14155550100",
        "title": "Photo",
        "media": [{"url": "https://cdn.example.com/a.jpg", "size": 120_000}],
    },
    Channel.RCS: {"to": "447700900123", "from": "Brand", "type": "TEXT", "text": "Hello"},
    Channel.VIBER: {
        "to": "385912345678",
        "from": "Brand",
        "text": "Hi",
        "isPromotional": False,
        "scenarioKey": SCENARIO,
        "shortenUrl": True,
        "trackClicks": True,
        "imageUrl": "https://cdn.example.com/v.png",
        "buttonText": "Open",
        "buttonUrl": "https://example.com/",
    },
    Channel.WHATSAPP: {
        "to": "385912345678",
        "from": "447860099299",
        "templateName": "welcome_2",
        "placeholders": ["Ana"],
        "shortenUrl": False,
        "trackClicks": False,
    },
    Channel.KAKAO_ALIM: {
        "to": "821012345678",
        "from": "OFFICIAL-ID",
        "templateName": "TPL001",
        "text": "Your order shipped",
        "buttons": [
            {"type": "URL", "name": "Track", "urlMobile": "https://m.example.com/t"},
            {
                "type": "APP_LINK",
                "name": "Open app",
                "schemeAndroid": "app://x",
                "schemeIos": "app://x",
            },
        ],
    },
    Channel.KAKAO_CHINGU: {
        "to": "821012345678",
        "from": "OFFICIAL-ID",
        "text": "New season",
        "imageUrl": "https://cdn.example.com/k.jpg",
        "buttons": [{"type": "URL", "name": "Shop", "urlMobile": "https://m.example.com"}],
    },
    Channel.ZALO: {
        "to": "84912345678",
        "from": "zalo-oa-1",
        "templateName": "3366070982",
        "placeholders": {"customer_name": "An"},
    },
}


def _with(channel: Channel, **changes: Any) -> dict[str, Any]:
    request = dict(VALID[channel])
    for key, value in changes.items():
        if value is _DROP:
            request.pop(key, None)
        else:
            request[key] = value
    return request


_DROP = object()


@pytest.mark.parametrize("channel", list(Channel))
def test_a_valid_request_is_pending(channel: Channel) -> None:
    verdict = validate_message(channel.value, VALID[channel])
    assert (verdict.status, verdict.field) == (S.PENDING, None)
    assert verdict.status.value == "Success: Message pending"


@pytest.mark.parametrize("channel", list(Channel))
@pytest.mark.parametrize("to", [_DROP, "", "   "])
def test_missing_phone(channel: Channel, to: object) -> None:
    verdict = validate_message(channel.value, _with(channel, to=to))
    assert verdict.status.value == "Error: Missing phone number in request"
    assert verdict.field == "to"


TRACKED = [Channel.VIBER, Channel.SMS, Channel.LMS, Channel.WHATSAPP]


@pytest.mark.parametrize("channel", TRACKED)
def test_tracking_flags_must_be_sent(channel: Channel) -> None:
    missing_track = validate_message(channel.value, _with(channel, trackClicks=_DROP))
    assert missing_track.status.value == "Error: Missing trackClicks flag"
    missing_shorten = validate_message(channel.value, _with(channel, shortenUrl="yes"))
    assert missing_shorten.status.value == "Error: Missing shortenUrl flag"


@pytest.mark.parametrize("channel", TRACKED)
def test_tracking_url_and_custom_domain_lengths(channel: Channel) -> None:
    long_url = "https://t.example.com/" + "x" * 2100
    assert validate_message(channel.value, _with(channel, trackingUrl=long_url)).status == (
        S.INVALID_TRACKING_URL
    )
    domain = "a" * 254 + ".com"
    verdict = validate_message(channel.value, _with(channel, customDomain=domain))
    assert verdict.status.value == "Error: Invalid custom domain length"
    assert verdict.field == "customDomain"


@pytest.mark.parametrize(
    ("channel", "too_long"),
    [
        (Channel.SMS, "a" * (153 * 25 + 1)),
        (Channel.WHATSAPP, "w" * 4097),
        (Channel.VIBER, "v" * 1001),
    ],
)
def test_invalid_text_length(channel: Channel, too_long: str) -> None:
    verdict = validate_message(channel.value, _with(channel, text=too_long))
    assert verdict.status.value == "Error: Invalid text length"
    assert verdict.field == "text"


def test_sms_of_exactly_25_parts_passes_and_empty_text_fails() -> None:
    assert validate_message("sms", _with(Channel.SMS, text="a" * (153 * 25))).ok
    assert validate_message("sms", _with(Channel.SMS, text=" ")).status is S.INVALID_TEXT


def test_sms_language_shift_keeps_a_turkish_text_in_25_parts() -> None:
    text = "ş" * (149 * 25)
    assert validate_message("sms", _with(Channel.SMS, text=text, language="TR")).ok
    assert validate_message("sms", _with(Channel.SMS, text=text)).status is S.INVALID_TEXT


@pytest.mark.parametrize(
    ("channel", "name"),
    [
        (Channel.WHATSAPP, "Welcome Offer"),
        (Channel.WHATSAPP, _DROP),
        (Channel.ZALO, "customer_welcome"),
        (Channel.KAKAO_ALIM, "T" * 31),
    ],
)
def test_invalid_template_name(channel: Channel, name: object) -> None:
    verdict = validate_message(channel.value, _with(channel, templateName=name))
    assert verdict.status.value == "Error: Invalid template name"
    assert verdict.field == "templateName"


def test_viber_scenario_key_and_promotional_flag() -> None:
    bad_key = validate_message("viber", _with(Channel.VIBER, scenarioKey="not-a-key"))
    assert bad_key.status.value == "Error: Invalid scenario key"
    for flag in (_DROP, "true", 1):
        verdict = validate_message("viber", _with(Channel.VIBER, isPromotional=flag))
        assert verdict.status.value == "Error: Invalid promotional flag"


@pytest.mark.parametrize("channel", [Channel.VIBER, Channel.KAKAO_CHINGU])
def test_invalid_image_url_length(channel: Channel) -> None:
    url = "https://cdn.example.com/" + "i" * 2100
    verdict = validate_message(channel.value, _with(channel, imageUrl=url))
    assert verdict.status.value == "Error: Invalid image url length"
    assert verdict.field == "imageUrl"


def test_chingu_image_url_limit_is_250() -> None:
    url = "https://cdn.example.com/" + "i" * (250 - 24)
    assert validate_message("kakao-chingu", _with(Channel.KAKAO_CHINGU, imageUrl=url)).ok
    longer = validate_message("kakao-chingu", _with(Channel.KAKAO_CHINGU, imageUrl=url + "i"))
    assert longer.status is S.INVALID_IMAGE_URL


@pytest.mark.parametrize(
    "channel", [Channel.WHATSAPP, Channel.KAKAO_ALIM, Channel.KAKAO_CHINGU, Channel.VIBER]
)
@pytest.mark.parametrize("sender", [_DROP, "", "x" * 41])
def test_invalid_from_field(channel: Channel, sender: object) -> None:
    verdict = validate_message(channel.value, _with(channel, **{"from": sender}))
    assert verdict.status.value == "Error: Invalid from field"
    assert verdict.field == "from"


def test_kakao_buttons() -> None:
    button = {"type": "URL", "name": "Go", "urlMobile": "https://m.example.com"}
    six = validate_message("kakao-alim", _with(Channel.KAKAO_ALIM, buttons=[button] * 6))
    assert six.status.value == "Error: Invalid buttons field length"
    long_name = dict(button, name="n" * 29)
    verdict = validate_message("kakao-alim", _with(Channel.KAKAO_ALIM, buttons=[long_name]))
    assert verdict.status.value == "Error: Invalid button text length"
    assert verdict.field == "buttons[0].name"
    app = {"type": "APP_LINK", "name": "App", "schemeAndroid": "a://x", "schemeIos": ""}
    schemes = validate_message("kakao-alim", _with(Channel.KAKAO_ALIM, buttons=[app]))
    assert schemes.status.value == "Error: Invalid androidScheme and iosScheme length"


def test_kakao_alim_takes_all_seven_button_types_and_chingu_only_links() -> None:
    kinds = [
        "APP_LINK",
        "DELIVERY_TRACKING",
        "URL",
        "CHATBOT_SWITCH",
        "BOT_KEYWORD",
        "MESSAGE_DELIVERY",
        "ADD_CHANNEL",
    ]
    for kind in kinds:
        button: dict[str, str] = {"type": kind, "name": "B"}
        if kind == "URL":
            button["urlMobile"] = "https://m.example.com"
        if kind == "APP_LINK":
            button |= {"schemeAndroid": "a://x", "schemeIos": "i://x"}
        assert validate_message("kakao-alim", _with(Channel.KAKAO_ALIM, buttons=[button])).ok
    keyword = [{"type": "BOT_KEYWORD", "name": "B"}]
    verdict = validate_message("kakao-chingu", _with(Channel.KAKAO_CHINGU, buttons=keyword))
    assert verdict.status is S.INVALID_BUTTONS


def test_viber_button_text_and_url() -> None:
    text = validate_message("viber", _with(Channel.VIBER, buttonText="b" * 31))
    assert text.status.value == "Error: Invalid button text length"
    url = validate_message("viber", _with(Channel.VIBER, buttonUrl="https://x.io/" + "u" * 1000))
    assert url.status.value == "Error: Invalid button url length"


def test_rcs_shapes_and_suggestions() -> None:
    card = {
        "title": "Offer",
        "mediaUrl": "https://cdn.example.com/c.png",
        "suggestions": [{"type": "OPEN_URL", "text": "See", "url": "https://example.com"}],
    }
    base = VALID[Channel.RCS]
    assert validate_message("rcs", base | {"type": "CARD", "card": card, "text": None}).ok
    carousel = base | {"type": "CAROUSEL", "cards": [card, card]}
    assert validate_message("rcs", carousel).ok
    one_card = validate_message("rcs", base | {"type": "CAROUSEL", "cards": [card]})
    assert one_card.field == "cards"
    suggestions = [
        {"type": "REPLY", "text": "Yes"},
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
    ]
    assert validate_message("rcs", base | {"suggestions": suggestions}).ok
    broken = validate_message("rcs", base | {"suggestions": [{"type": "DIAL_PHONE", "text": "x"}]})
    assert (broken.status, broken.field) == (S.INVALID_SUGGESTIONS, "suggestions[0].phoneNumber")
    wordy = validate_message("rcs", base | {"suggestions": [{"type": "REPLY", "text": "w" * 26}]})
    assert wordy.field == "suggestions[0].text"


def test_sms_regional_options() -> None:
    iys = {"turkeyIys": {"brandCode": 12345, "recipientType": "TACIR"}}
    assert validate_message("sms", _with(Channel.SMS, regional=iys)).ok
    wrong = {"turkeyIys": {"recipientType": "PERSONAL"}}
    verdict = validate_message("sms", _with(Channel.SMS, regional=wrong))
    assert verdict.field == "regional.turkeyIys.recipientType"
    dlt = {"indiaDlt": {"contentTemplateId": "1107"}}
    verdict = validate_message("sms", _with(Channel.SMS, regional=dlt))
    assert verdict.field == "regional.indiaDlt.principalEntityId"
    assert validate_message("sms", _with(Channel.SMS, language="FR")).status is S.INVALID_LANGUAGE


def test_zalo_template_only_registered_placeholders() -> None:
    registered = {"3366070982": frozenset({"customer_name"})}
    request = VALID[Channel.ZALO]
    assert validate_message("zalo", request, zalo_placeholders=registered).ok
    extra = request | {"placeholders": {"customer_name": "An", "order": "7"}}
    verdict = validate_message("zalo", extra, zalo_placeholders=registered)
    assert (verdict.status, verdict.field) == (S.INVALID_PLACEHOLDERS, "placeholders.order")


def test_mms_media_over_the_size_limit() -> None:
    media = [{"url": "https://cdn.example.com/v.mp4", "size": 900_000}] * 2
    verdict = validate_message("mms", _with(Channel.MMS, media=media))
    assert (verdict.status, verdict.field) == (S.INVALID_MEDIA, "media")


def test_callback_data_limits_and_reserved_keys() -> None:
    big = {"note": "x" * 4000}
    verdict = validate_message("sms", _with(Channel.SMS, callbackData=big))
    assert (verdict.status, verdict.field) == (S.INVALID_CALLBACK_DATA, "callbackData")
    reserved = validate_message("sms", _with(Channel.SMS, callbackData={"ContactKey": "c"}))
    assert reserved.field == "callbackData.ContactKey"
    assert validate_message("sms", _with(Channel.SMS, callbackData={"segment": "vip"})).ok


def test_unknown_channel_is_a_verdict_naming_the_known_ones() -> None:
    verdict = validate_message("telegram", VALID[Channel.SMS])
    assert verdict.status is S.UNKNOWN_CHANNEL
    assert "kakao-alim" in verdict.detail


def test_hashtag_escape_and_phone_normalising() -> None:
    assert unescape_hashtags(r"sale \#haveaniceday \#hello") == "sale #haveaniceday #hello"
    assert normalise_phone("+385 (91) 234-5678") == "385912345678"
    assert normalise_phone("00385912345678") == "385912345678"


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
KEYS = st.sampled_from(
    [
        "to",
        "from",
        "text",
        "title",
        "templateName",
        "placeholders",
        "buttons",
        "imageUrl",
        "media",
        "callbackData",
        "regional",
        "language",
        "suggestions",
        "type",
        "cards",
        "card",
        "isPromotional",
        "scenarioKey",
        "trackClicks",
        "shortenUrl",
        "buttonText",
        "buttonUrl",
        "customDomain",
        "trackingUrl",
    ]
)


@settings(deadline=None)  # no time limit: a loaded CI machine is slow, not wrong
@given(st.sampled_from(list(Channel)), st.dictionaries(KEYS, JSON, max_size=10))
def test_any_request_gets_a_verdict_never_an_exception(
    channel: Channel, request: dict[str, Any]
) -> None:
    verdict = validate_message(channel.value, request)
    assert verdict.ok or verdict.field
