"""Button rules: Viber's one button, Kakao's typed buttons."""

from __future__ import annotations

from collections.abc import Mapping

from peoplesync.messaging.channels.catalog import (
    KAKAO_SCHEME_LIMIT,
    Channel,
    ChannelRules,
    KakaoButtonType,
)
from peoplesync.messaging.channels.message_status import MessageStatus
from peoplesync.messaging.channels.verdict import Invalid, is_url


def check_buttons(rules: ChannelRules, request: Mapping[str, object]) -> None:
    if rules.channel is Channel.VIBER:
        _viber_button(rules, request)
        return
    buttons = request.get("buttons")
    if buttons is None:
        return
    if not isinstance(buttons, list) or len(buttons) > rules.buttons_limit:
        raise Invalid(
            MessageStatus.INVALID_BUTTONS,
            "buttons",
            f"{rules.channel.value} takes at most {rules.buttons_limit} buttons",
        )
    allowed = (
        set(KakaoButtonType)
        if rules.channel is Channel.KAKAO_ALIM
        else {KakaoButtonType.WEB_LINK, KakaoButtonType.APP_LINK}
    )
    for index, button in enumerate(buttons):
        _kakao_button(rules, button, f"buttons[{index}]", allowed)


def _viber_button(rules: ChannelRules, request: Mapping[str, object]) -> None:
    text, url = request.get("buttonText"), request.get("buttonUrl")
    if text is None and url is None:
        return
    limit = rules.button_text_limit or 0
    if not isinstance(text, str) or not text or len(text) > limit:
        raise Invalid(
            MessageStatus.INVALID_BUTTON_TEXT,
            "buttonText",
            f"a Viber button needs a text of 1 to {limit} characters",
        )
    url_limit = rules.button_url_limit or 0
    if not isinstance(url, str) or not is_url(url) or len(url) > url_limit:
        raise Invalid(
            MessageStatus.INVALID_BUTTON_URL,
            "buttonUrl",
            f"a Viber button needs an http(s) URL of at most {url_limit} characters",
        )


def _kakao_button(
    rules: ChannelRules, button: object, field: str, allowed: set[KakaoButtonType]
) -> None:
    if not isinstance(button, Mapping) or button.get("type") not in allowed:
        names = ", ".join(sorted(each.value for each in allowed))
        raise Invalid(MessageStatus.INVALID_BUTTONS, field, f"a button's type is one of {names}")
    name = button.get("name")
    limit = rules.button_text_limit or 0
    if not isinstance(name, str) or not name or len(name) > limit:
        raise Invalid(
            MessageStatus.INVALID_BUTTON_TEXT,
            f"{field}.name",
            f"a button's name has 1 to {limit} characters",
        )
    url_limit = rules.button_url_limit or 0
    for key in ("urlMobile", "urlPc"):
        value = button.get(key)
        if value is not None and (not isinstance(value, str) or len(value) > url_limit):
            raise Invalid(
                MessageStatus.INVALID_BUTTON_URL,
                f"{field}.{key}",
                f"a button URL has at most {url_limit} characters",
            )
    kind = button.get("type")
    if kind == KakaoButtonType.WEB_LINK and not button.get("urlMobile"):
        raise Invalid(
            MessageStatus.INVALID_BUTTON_URL, f"{field}.urlMobile", "a web link needs urlMobile"
        )
    if kind == KakaoButtonType.APP_LINK:
        schemes = [button.get("schemeAndroid"), button.get("schemeIos")]
        if not all(
            isinstance(each, str) and 0 < len(each) <= KAKAO_SCHEME_LIMIT for each in schemes
        ):
            raise Invalid(
                MessageStatus.INVALID_APP_SCHEMES,
                f"{field}.schemeAndroid",
                f"an app link needs schemeAndroid and schemeIos of 1 to {KAKAO_SCHEME_LIMIT} "
                "characters",
            )
