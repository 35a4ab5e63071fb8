"""Validate one message request for its channel: a verdict, never an exception.

A request is the plain JSON object a journey, the REST API or the CLI sends (its keys are
listed in docs/messaging.md). The verdict carries the ``messageStatus`` text the journey
splits on and the request field at fault, so a person can fix it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from peoplesync.messaging.channels.button_checks import check_buttons
from peoplesync.messaging.channels.catalog import (
    CALLBACK_DATA_LIMIT,
    CUSTOM_DOMAIN_LIMIT,
    KAKAO_ALIM_TEMPLATE_CODE_LIMIT,
    MMS_SIZE_LIMIT,
    PHONE_DIGITS_LIMIT,
    RESERVED_CALLBACK_KEYS,
    RULES,
    TRACKING_URL_LIMIT,
    VIBER_SCENARIO_KEY_LENGTH,
    WHATSAPP_TEMPLATE_LIMIT,
    Channel,
    ChannelRules,
)
from peoplesync.messaging.channels.message_status import MessageStatus
from peoplesync.messaging.channels.rcs_checks import check_rcs
from peoplesync.messaging.channels.regional_checks import (
    LANGUAGES,
    check_sms_options,
    check_zalo_placeholders,
)
from peoplesync.messaging.channels.text import check_text_size
from peoplesync.messaging.channels.verdict import PENDING, Invalid, Verdict, is_url

_PHONE = re.compile(rf"^\+?[0-9]{{6,{PHONE_DIGITS_LIMIT}}}$")
_PHONE_SEPARATORS = re.compile(r"[\s().-]")
_SCENARIO_KEY = re.compile(rf"^[0-9A-Fa-f]{{{VIBER_SCENARIO_KEY_LENGTH}}}$")
_WHATSAPP_TEMPLATE = re.compile(r"^[a-z0-9_]+$")

Check = Callable[[ChannelRules, Mapping[str, object]], None]


def validate_message(
    channel: str,
    request: Mapping[str, object],
    *,
    zalo_placeholders: Mapping[str, frozenset[str]] | None = None,
) -> Verdict:
    """Check a request against its channel's rules; the first problem found wins.

    ``zalo_placeholders`` maps a registered Zalo template id to its placeholders, when known.
    """
    try:
        rules = RULES[Channel(channel)]
    except ValueError:
        known = ", ".join(each.value for each in Channel)
        return Verdict(
            MessageStatus.UNKNOWN_CHANNEL, "channel", f"unknown channel {channel!r}: use {known}"
        )
    try:
        for check in _CHECKS:
            check(rules, request)
        if rules.channel is Channel.ZALO:
            check_zalo_placeholders(request, zalo_placeholders)
    except Invalid as invalid:
        return invalid.verdict
    return PENDING


def normalise_phone(value: str) -> str:
    """Digits only, as providers want them (``+385 91 234-5678`` -> ``385912345678``)."""
    return _PHONE_SEPARATORS.sub("", value).removeprefix("+").removeprefix("00")


def _phone(rules: ChannelRules, request: Mapping[str, object]) -> None:
    to = request.get("to")
    if to is None or (isinstance(to, str) and not to.strip()):
        raise Invalid(MessageStatus.MISSING_PHONE, "to", "the request has no phone number")
    if not isinstance(to, str) or not _PHONE.match(_PHONE_SEPARATORS.sub("", to)):
        raise Invalid(
            MessageStatus.INVALID_PHONE,
            "to",
            f"{to!r} is not a phone number in international format (country code, up to 15 digits)",
        )


def _tracking(rules: ChannelRules, request: Mapping[str, object]) -> None:
    if not rules.url_tracking:
        for key in ("shortenUrl", "trackClicks"):
            if request.get(key):
                raise Invalid(
                    MessageStatus.INVALID_TRACKING_URL,
                    key,
                    f"{rules.channel.value} has no URL shortening or click tracking",
                )
        return
    if rules.tracking_flags_required:
        for key, status in (
            ("trackClicks", MessageStatus.MISSING_TRACK_CLICKS),
            ("shortenUrl", MessageStatus.MISSING_SHORTEN_URL),
        ):
            if not isinstance(request.get(key), bool):
                raise Invalid(status, key, f"{key} must be sent as true or false")
    for key, limit, status in (
        ("trackingUrl", TRACKING_URL_LIMIT, MessageStatus.INVALID_TRACKING_URL),
        ("customDomain", CUSTOM_DOMAIN_LIMIT, MessageStatus.INVALID_CUSTOM_DOMAIN),
    ):
        value = request.get(key)
        if value is not None and (not isinstance(value, str) or not 0 < len(value) <= limit):
            raise Invalid(status, key, f"{key} has 1 to {limit} characters")


def _text(rules: ChannelRules, request: Mapping[str, object]) -> None:
    text = request.get("text")
    optional = (
        rules.template
        or rules.channel is Channel.RCS  # checked with its content type
        or (rules.channel is Channel.MMS and bool(request.get("media")))
    )
    if optional and not text:
        return
    if rules.channel is Channel.RCS:
        return
    language = request.get("language")  # an unknown code is reported by its own check
    check_text_size(rules, text, language if language in LANGUAGES else None)


def _title(rules: ChannelRules, request: Mapping[str, object]) -> None:
    title = request.get("title")
    if title is None or rules.title_limit is None:
        return
    if not isinstance(title, str) or len(title) > rules.title_limit:
        raise Invalid(
            MessageStatus.INVALID_TITLE,
            "title",
            f"the title takes at most {rules.title_limit} characters",
        )


_TEMPLATE_HINTS = {
    Channel.WHATSAPP: "a registered template name: lower-case letters, digits and _",
    Channel.KAKAO_ALIM: (
        f"a registered template code of at most {KAKAO_ALIM_TEMPLATE_CODE_LIMIT} characters"
    ),
    Channel.ZALO: "the registered template id (digits only)",
}


def _template_name_valid(channel: Channel, name: str) -> bool:
    if channel is Channel.WHATSAPP:
        return len(name) <= WHATSAPP_TEMPLATE_LIMIT and bool(_WHATSAPP_TEMPLATE.match(name))
    if channel is Channel.KAKAO_ALIM:
        return len(name) <= KAKAO_ALIM_TEMPLATE_CODE_LIMIT
    return name.isdigit()


def _template(rules: ChannelRules, request: Mapping[str, object]) -> None:
    if not rules.template:
        return
    name = request.get("templateName")
    if not isinstance(name, str) or not name or not _template_name_valid(rules.channel, name):
        hint = _TEMPLATE_HINTS[rules.channel]
        raise Invalid(MessageStatus.INVALID_TEMPLATE_NAME, "templateName", f"use {hint}")
    placeholders = request.get("placeholders")
    if (
        rules.channel is Channel.WHATSAPP
        and placeholders is not None
        and (
            not isinstance(placeholders, list)
            or not all(isinstance(each, str) and each for each in placeholders)
        )
    ):
        raise Invalid(
            MessageStatus.INVALID_PLACEHOLDERS,
            "placeholders",
            "WhatsApp placeholders are a list of non-empty texts, in template order",
        )


def _viber(rules: ChannelRules, request: Mapping[str, object]) -> None:
    if rules.channel is not Channel.VIBER:
        return
    key = request.get("scenarioKey")
    if key is not None and (not isinstance(key, str) or not _SCENARIO_KEY.match(key)):
        raise Invalid(
            MessageStatus.INVALID_SCENARIO_KEY,
            "scenarioKey",
            f"a scenario key is {VIBER_SCENARIO_KEY_LENGTH} hexadecimal characters",
        )
    if not isinstance(request.get("isPromotional"), bool):
        raise Invalid(
            MessageStatus.INVALID_PROMOTIONAL_FLAG,
            "isPromotional",
            "Viber messages say whether they are promotional: true or false",
        )


def _image(rules: ChannelRules, request: Mapping[str, object]) -> None:
    for key in ("imageUrl", "mediaUrl"):
        value = request.get(key)
        if value is None:
            continue
        limit = rules.image_url_limit
        if limit is None:
            raise Invalid(
                MessageStatus.INVALID_MEDIA, key, f"{rules.channel.value} sends no images"
            )
        if not is_url(value) or len(str(value)) > limit:
            raise Invalid(
                MessageStatus.INVALID_IMAGE_URL,
                key,
                f"an image URL is an http(s) address of at most {limit} characters",
            )
    if rules.channel is Channel.MMS:
        _mms_media(request.get("media"))


def _mms_media(media: object) -> None:
    if media is None:
        return
    if not isinstance(media, list) or not media:
        raise Invalid(MessageStatus.INVALID_MEDIA, "media", "media is a list of files")
    total = 0
    for index, item in enumerate(media):
        field = f"media[{index}]"
        if not isinstance(item, Mapping) or not is_url(item.get("url")):
            raise Invalid(MessageStatus.INVALID_MEDIA, field, "each file needs an http(s) url")
        size = item.get("size", 0)
        if not isinstance(size, int) or size < 0:
            raise Invalid(MessageStatus.INVALID_MEDIA, f"{field}.size", "size is a byte count")
        total += size
    if total > MMS_SIZE_LIMIT:
        raise Invalid(
            MessageStatus.INVALID_MEDIA,
            "media",
            f"the files add up to {total} bytes; an MMS carries at most {MMS_SIZE_LIMIT}",
        )


def _sender(rules: ChannelRules, request: Mapping[str, object]) -> None:
    sender = request.get("from")
    if sender is None and not rules.sender_required:
        return
    limit = rules.sender_limit
    if (
        not isinstance(sender, str)
        or not sender.strip()
        or (limit is not None and len(sender) > limit)
    ):
        size = f" of at most {limit} characters" if limit else ""
        raise Invalid(
            MessageStatus.INVALID_FROM,
            "from",
            f"{rules.channel.value} needs a registered sender{size}",
        )


def _callback_data(rules: ChannelRules, request: Mapping[str, object]) -> None:
    data = request.get("callbackData")
    if data is None:
        return
    if not isinstance(data, Mapping) or not all(
        isinstance(key, str) and isinstance(value, str) for key, value in data.items()
    ):
        raise Invalid(
            MessageStatus.INVALID_CALLBACK_DATA, "callbackData", "callback data is text fields"
        )
    reserved = sorted(RESERVED_CALLBACK_KEYS.intersection(data))
    if reserved:
        raise Invalid(
            MessageStatus.INVALID_CALLBACK_DATA,
            f"callbackData.{reserved[0]}",
            f"{reserved[0]} is written by peoplesync itself: rename the field",
        )
    size = callback_data_size(data)
    if size > CALLBACK_DATA_LIMIT:
        raise Invalid(
            MessageStatus.INVALID_CALLBACK_DATA,
            "callbackData",
            f"callback data takes {size} characters; at most {CALLBACK_DATA_LIMIT} are sent",
        )


def callback_data_size(data: Mapping[str, object]) -> int:
    """Characters the fields take once serialised as a JSON object."""
    return 2 + sum(len(key) + len(str(value)) + 6 for key, value in data.items())


_CHECKS: tuple[Check, ...] = (
    _phone,
    _tracking,
    _text,
    _title,
    _template,
    _viber,
    _image,
    _sender,
    check_buttons,
    check_rcs,
    check_sms_options,
    _callback_data,
)
