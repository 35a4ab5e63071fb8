"""RCS rules: text, file, card or carousel, and suggestions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from peoplesync.messaging.channels.catalog import (
    RCS_CAROUSEL_LIMIT,
    RCS_SUGGESTION_LIMIT,
    RCS_SUGGESTION_TEXT_LIMIT,
    Channel,
    ChannelRules,
    RcsContentType,
    RcsSuggestionType,
)
from peoplesync.messaging.channels.message_status import MessageStatus
from peoplesync.messaging.channels.text import check_text_size
from peoplesync.messaging.channels.verdict import Invalid, is_url


def check_rcs(rules: ChannelRules, request: Mapping[str, object]) -> None:
    if rules.channel is not Channel.RCS:
        return
    kind = request.get("type", RcsContentType.TEXT.value)
    if kind not in set(RcsContentType):
        raise Invalid(
            MessageStatus.INVALID_TEXT, "type", "an RCS message is TEXT, FILE, CARD or CAROUSEL"
        )
    if kind == RcsContentType.TEXT:
        check_text_size(rules, request.get("text"))
    elif kind == RcsContentType.FILE:
        if not is_url(request.get("fileUrl")):
            raise Invalid(MessageStatus.INVALID_MEDIA, "fileUrl", "an RCS file needs its URL")
    elif kind == RcsContentType.CARD:
        _rcs_card(request.get("card"), "card")
    else:
        cards = request.get("cards")
        if not isinstance(cards, list) or not 2 <= len(cards) <= RCS_CAROUSEL_LIMIT:
            raise Invalid(
                MessageStatus.INVALID_MEDIA,
                "cards",
                f"a carousel has 2 to {RCS_CAROUSEL_LIMIT} cards",
            )
        for index, card in enumerate(cards):
            _rcs_card(card, f"cards[{index}]")
    _suggestions(request.get("suggestions"), "suggestions", RCS_SUGGESTION_LIMIT)


def _rcs_card(card: object, field: str) -> None:
    if not isinstance(card, Mapping) or not (card.get("title") or card.get("description")):
        raise Invalid(MessageStatus.INVALID_TEXT, field, "a card needs a title or description")
    media = card.get("mediaUrl")
    if media is not None and not is_url(media):
        raise Invalid(MessageStatus.INVALID_IMAGE_URL, f"{field}.mediaUrl", "use an http(s) URL")
    _suggestions(card.get("suggestions"), f"{field}.suggestions", 4)


def _suggestions(value: object, field: str, limit: int) -> None:
    if value is None:
        return
    if not isinstance(value, list) or len(value) > limit:
        raise Invalid(MessageStatus.INVALID_SUGGESTIONS, field, f"at most {limit} suggestions")
    needs: dict[str, Sequence[str]] = {
        RcsSuggestionType.REPLY: ("text",),
        RcsSuggestionType.OPEN_URL: ("text", "url"),
        RcsSuggestionType.DIAL_PHONE: ("text", "phoneNumber"),
        RcsSuggestionType.SHOW_LOCATION: ("text", "latitude", "longitude"),
        RcsSuggestionType.REQUEST_LOCATION: ("text",),
        RcsSuggestionType.CREATE_CALENDAR_EVENT: ("text", "title", "startTime", "endTime"),
    }
    for index, item in enumerate(value):
        where = f"{field}[{index}]"
        kind = item.get("type") if isinstance(item, Mapping) else None
        if not isinstance(item, Mapping) or kind not in needs:
            raise Invalid(
                MessageStatus.INVALID_SUGGESTIONS,
                where,
                "a suggestion's type is one of " + ", ".join(needs),
            )
        for key in needs[str(kind)]:
            if item.get(key) in (None, ""):
                raise Invalid(
                    MessageStatus.INVALID_SUGGESTIONS, f"{where}.{key}", f"{kind} needs {key}"
                )
        text = item.get("text")
        if not isinstance(text, str) or len(text) > RCS_SUGGESTION_TEXT_LIMIT:
            raise Invalid(
                MessageStatus.INVALID_SUGGESTIONS,
                f"{where}.text",
                f"a suggestion's text has 1 to {RCS_SUGGESTION_TEXT_LIMIT} characters",
            )
