"""The nine channels and their limits, as data.

Limits come from the provider's published API documents (Infobip's OpenAPI files) unless a
comment says the figure is our own choice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType


class Channel(StrEnum):
    """A messaging channel, by the name journeys and the CLI use."""

    SMS = "sms"
    LMS = "lms"
    MMS = "mms"
    RCS = "rcs"
    VIBER = "viber"
    WHATSAPP = "whatsapp"
    KAKAO_ALIM = "kakao-alim"
    KAKAO_CHINGU = "kakao-chingu"
    ZALO = "zalo"


CHANNEL_LABELS: Mapping[Channel, str] = MappingProxyType(
    {
        Channel.SMS: "SMS",
        Channel.LMS: "LMS",
        Channel.MMS: "MMS",
        Channel.RCS: "RCS",
        Channel.VIBER: "Viber",
        Channel.WHATSAPP: "WhatsApp",
        Channel.KAKAO_ALIM: "Kakao Alim",
        Channel.KAKAO_CHINGU: "Kakao ChinguTalk",
        Channel.ZALO: "Zalo",
    }
)


class KakaoButtonType(StrEnum):
    """The seven Kakao Alim button types."""

    APP_LINK = "APP_LINK"
    DELIVERY_TRACKING = "DELIVERY_TRACKING"
    WEB_LINK = "URL"
    CHATBOT_SWITCH = "CHATBOT_SWITCH"
    BOT_KEYWORD = "BOT_KEYWORD"
    MESSAGE_DELIVERY = "MESSAGE_DELIVERY"
    ADD_CHANNEL = "ADD_CHANNEL"


class RcsSuggestionType(StrEnum):
    """Clickable actions on an RCS message, card or carousel card."""

    REPLY = "REPLY"
    OPEN_URL = "OPEN_URL"
    DIAL_PHONE = "DIAL_PHONE"
    SHOW_LOCATION = "SHOW_LOCATION"
    REQUEST_LOCATION = "REQUEST_LOCATION"
    CREATE_CALENDAR_EVENT = "CREATE_CALENDAR_EVENT"


class RcsContentType(StrEnum):
    TEXT = "TEXT"
    FILE = "FILE"
    CARD = "CARD"
    CAROUSEL = "CAROUSEL"


@dataclass(frozen=True)
class ChannelRules:
    """What one channel accepts."""

    channel: Channel
    text_limit: int | None = None  # characters; SMS counts parts instead
    url_tracking: bool = False  # URL shortening and click tracking in the body
    tracking_flags_required: bool = False  # trackClicks / shortenUrl must be sent
    two_way: bool = False  # replies come back as inbound messages
    sender_limit: int | None = None
    sender_required: bool = False
    title_limit: int | None = None
    template: bool = False  # sends a registered template by name
    image_url_limit: int | None = None
    buttons_limit: int = 0
    button_text_limit: int | None = None
    button_url_limit: int | None = None
    report_kind: str = "omni"  # which delivery-report store: "sms" or "omni"


MAX_SMS_PARTS = 25  # the provider refuses longer messages (REJECTED_MESSAGE_TOO_LONG)
CALLBACK_DATA_LIMIT = 4000
TRACKING_URL_LIMIT = 2048  # our choice: the provider's longest URL field (notifyUrl)
CUSTOM_DOMAIN_LIMIT = 253  # a DNS name
MMS_SIZE_LIMIT = 1_000_000  # bytes of media a message may reference (most US/CA carriers)
MMS_TEXT_LIMIT = 4096
KAKAO_SCHEME_LIMIT = 500
KAKAO_ALIM_TEMPLATE_CODE_LIMIT = 30
CHINGU_BUTTON_LIMIT = 5
WHATSAPP_TEMPLATE_LIMIT = 512
RCS_SUGGESTION_LIMIT = 11
RCS_SUGGESTION_TEXT_LIMIT = 25
RCS_CAROUSEL_LIMIT = 10  # our choice, the usual cap of RCS carousels
PHONE_DIGITS_LIMIT = 15  # E.164
VIBER_SCENARIO_KEY_LENGTH = 32

# Callback-data keys the connector itself writes; a journey's custom fields may not use them.
RESERVED_CALLBACK_KEYS = frozenset(
    {
        "ActivityId",
        "BulkId",
        "From",
        "Message",
        "JourneyName",
        "ContactKey",
        "MID",
        "VersionId",
        "VersionNumber",
        "TemplateName",
    }
)

RULES: Mapping[Channel, ChannelRules] = MappingProxyType(
    {
        Channel.SMS: ChannelRules(
            Channel.SMS,
            url_tracking=True,
            tracking_flags_required=True,
            two_way=True,
            sender_limit=15,
            report_kind="sms",
        ),
        Channel.LMS: ChannelRules(
            Channel.LMS,
            text_limit=2000,
            url_tracking=True,
            tracking_flags_required=True,
            sender_limit=15,
            title_limit=66,
            report_kind="sms",
        ),
        Channel.MMS: ChannelRules(
            Channel.MMS,
            text_limit=MMS_TEXT_LIMIT,
            url_tracking=True,
            two_way=True,
            sender_limit=15,
            title_limit=66,
            image_url_limit=2048,
            report_kind="sms",
        ),
        Channel.RCS: ChannelRules(
            Channel.RCS,
            text_limit=3072,
            url_tracking=True,
            two_way=True,
            sender_required=True,
            image_url_limit=2048,
        ),
        Channel.VIBER: ChannelRules(
            Channel.VIBER,
            text_limit=1000,
            url_tracking=True,
            tracking_flags_required=True,
            two_way=True,
            sender_limit=20,
            sender_required=True,
            image_url_limit=2000,
            buttons_limit=1,
            button_text_limit=30,
            button_url_limit=1000,
        ),
        Channel.WHATSAPP: ChannelRules(
            Channel.WHATSAPP,
            text_limit=4096,
            url_tracking=True,
            tracking_flags_required=True,
            two_way=True,
            sender_limit=24,
            sender_required=True,
            template=True,
        ),
        Channel.KAKAO_ALIM: ChannelRules(
            Channel.KAKAO_ALIM,
            text_limit=1000,
            sender_limit=40,
            sender_required=True,
            title_limit=50,
            template=True,
            image_url_limit=250,
            buttons_limit=5,
            button_text_limit=28,
            button_url_limit=500,
        ),
        Channel.KAKAO_CHINGU: ChannelRules(
            Channel.KAKAO_CHINGU,
            text_limit=1300,
            sender_limit=40,
            sender_required=True,
            image_url_limit=250,
            buttons_limit=CHINGU_BUTTON_LIMIT,
            button_text_limit=14,
            button_url_limit=500,
        ),
        Channel.ZALO: ChannelRules(
            Channel.ZALO,
            text_limit=2000,
            sender_required=True,
            template=True,
        ),
    }
)
