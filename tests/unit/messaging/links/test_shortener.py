"""Planning short links: which URLs are replaced, with what, and what validation then counts."""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from peoplesync.messaging.channels.catalog import Channel
from peoplesync.messaging.channels.message_status import MessageStatus
from peoplesync.messaging.channels.validation import validate_message
from peoplesync.messaging.links.finder import find_urls
from peoplesync.messaging.links.shortener import prepare
from tests.unit.messaging.test_channel_validation import VALID

BASE = "https://people.example.com"


def codes() -> Any:
    counter = itertools.count(1)
    return lambda: f"Code{next(counter):04d}"


def sms(text: str, **extra: object) -> dict[str, Any]:
    return VALID[Channel.SMS] | {"text": text} | extra


def test_body_urls_become_short_links_and_the_provider_tracks_nothing() -> None:
    ready = prepare(
        "sms",
        sms("Sale: https://shop.example.com/p?id=1&utm=sms. Map (https://maps.example/x)"),
        default_base=BASE,
        new_code=codes(),
    )
    assert ready.refusal is None and ready.plan is not None
    assert ready.request["text"] == (
        "Sale: https://people.example.com/Code0001. Map (https://people.example.com/Code0002)"
    )
    assert [(link.position, link.url) for link in ready.plan.links] == [
        (0, "https://shop.example.com/p?id=1&utm=sms"),
        (1, "https://maps.example/x"),
    ]
    assert ready.plan.tracked is True
    assert ready.request["shortenUrl"] is False and ready.request["trackClicks"] is False


def test_remove_https_and_a_custom_domain() -> None:
    request = sms(
        "Go https://shop.example.com/a", customDomain="Go.Example.ORG", removeProtocol=True
    )
    ready = prepare("sms", request, default_base=BASE, new_code=codes())
    assert ready.request["text"] == "Go go.example.org/Code0001"
    assert "customDomain" not in ready.request and "removeProtocol" not in ready.request
    plain = prepare(
        "sms", sms("Go https://x.example", removeProtocol=True), default_base=BASE, new_code=codes()
    )
    assert plain.request["text"] == "Go people.example.com/Code0001"


def test_a_bad_custom_domain_or_an_overlong_url_refuses_the_message() -> None:
    for domain in ("https://go.example.org", "go example.org", "x" * 254, 7):
        ready = prepare(
            "sms",
            sms("https://a.example", customDomain=domain),
            default_base=BASE,
            new_code=codes(),
        )
        assert ready.refusal is not None
        assert ready.refusal.status is MessageStatus.INVALID_CUSTOM_DOMAIN
        assert ready.refusal.field == "customDomain"
    long_url = "https://a.example/" + "p" * 2100
    ready = prepare("sms", sms(f"see {long_url}"), default_base=BASE, new_code=codes())
    assert ready.refusal is not None
    assert ready.refusal.status is MessageStatus.INVALID_TRACKING_URL
    assert ready.refusal.field == "text"


def test_headers_titles_media_and_buttons_keep_their_urls() -> None:
    viber = VALID[Channel.VIBER] | {
        "text": "Hi https://a.example/v",
        "buttonUrl": "https://b.example/btn",
    }
    ready = prepare("viber", viber, default_base=BASE, new_code=codes())
    assert ready.request["text"] == "Hi https://people.example.com/Code0001"
    assert ready.request["buttonUrl"] == "https://b.example/btn"
    assert ready.request["imageUrl"] == viber["imageUrl"]
    mms = VALID[Channel.MMS] | {
        "title": "https://t.example/title",
        "text": "Body https://a.example/m",
        "shortenUrl": True,
        "trackClicks": True,
    }
    ready = prepare("mms", mms, default_base=BASE, new_code=codes())
    assert ready.request["title"] == "https://t.example/title"
    assert ready.request["media"] == mms["media"]
    assert ready.request["text"] == "Body https://people.example.com/Code0001"
    rcs = VALID[Channel.RCS] | {
        "text": "https://a.example/r",
        "trackClicks": True,
        "suggestions": [{"type": "OPEN_URL", "text": "Open", "url": "https://s.example"}],
    }
    ready = prepare("rcs", rcs, default_base=BASE, new_code=codes())
    assert ready.request["text"] == "https://people.example.com/Code0001"
    assert ready.request["suggestions"] == rcs["suggestions"]


def test_whatsapp_shortens_the_template_body_placeholders_only() -> None:
    request = VALID[Channel.WHATSAPP] | {
        "placeholders": ["Ana", "https://a.example/order/7", "no url"],
        "shortenUrl": True,
        "trackClicks": True,
    }
    ready = prepare("whatsapp", request, default_base=BASE, new_code=codes())
    assert ready.request["placeholders"] == ["Ana", "https://people.example.com/Code0001", "no url"]
    assert ready.plan is not None and ready.plan.links[0].field == "placeholders[1]"
    assert request["placeholders"][1] == "https://a.example/order/7"  # the draft is not changed


def test_already_short_links_and_untracked_requests_are_left_alone() -> None:
    text = "Again https://people.example.com/Abcd1234 and https://people.example.com/people"
    ready = prepare("sms", sms(text), default_base=BASE, new_code=codes())
    assert ready.request["text"] == (
        "Again https://people.example.com/Abcd1234 and https://people.example.com/Code0001"
    )
    off = sms("https://a.example", shortenUrl=False, trackClicks=False)
    assert prepare("sms", off, default_base=BASE, new_code=codes()).request is off
    kakao = VALID[Channel.KAKAO_ALIM] | {"text": "https://a.example"}
    assert prepare("kakao-alim", kakao, default_base=BASE, new_code=codes()).plan is None
    # Without a public URL the flags go to the provider, which shortens on its own.
    assert (
        prepare("sms", sms("https://a.example"), default_base=None, new_code=codes()).plan is None
    )


def test_shorten_without_tracking_redirects_but_does_not_count() -> None:
    request = sms("https://a.example", trackClicks=False)
    ready = prepare("sms", request, default_base=BASE, new_code=codes())
    assert ready.plan is not None and ready.plan.tracked is False
    assert ready.request["text"] == "https://people.example.com/Code0001"


def test_an_escaped_hashtag_in_a_url_is_sent_as_a_hashtag() -> None:
    ready = prepare("sms", sms(r"https://a.example/p\#top"), default_base=BASE, new_code=codes())
    assert ready.plan is not None and ready.plan.links[0].url == "https://a.example/p#top"


def test_validation_counts_the_text_as_sent_with_its_short_links() -> None:
    long_url = "https://shop.example.com/" + "p" * 200
    lms = VALID[Channel.LMS] | {
        "text": "x" * 1900 + " " + long_url,
        "shortenUrl": True,
        "trackClicks": True,
    }
    assert validate_message("lms", lms).status is MessageStatus.INVALID_TEXT
    ready = prepare("lms", lms, default_base=BASE, new_code=codes())
    assert validate_message("lms", ready.request).ok  # 1,936 characters once shortened
    short_url = "https://a.io/x"
    grows = lms | {"text": "x" * 1976 + " " + short_url}  # 1,991 as written, 2,012 as sent
    assert validate_message("lms", grows).ok
    ready = prepare("lms", grows, default_base=BASE, new_code=codes())
    assert validate_message("lms", ready.request).status is MessageStatus.INVALID_TEXT


def test_a_public_url_that_is_no_address_refuses_the_message_with_a_hint() -> None:
    ready = prepare(
        "sms", sms("https://a.example"), default_base="people.example.com", new_code=codes()
    )
    assert ready.refusal is not None
    assert ready.refusal.status is MessageStatus.INVALID_CUSTOM_DOMAIN
    assert "PEOPLESYNC_PUBLIC_URL" in ready.refusal.detail


_WORDS = st.sampled_from(
    ["Sale", "(see", "now).", "https://a.example/x?y=1", "http://b.example/(c)", "ä", "…", "\\#"]
)


@given(st.lists(_WORDS | st.text(max_size=6), max_size=12).map(" ".join))
def test_every_url_of_a_text_is_replaced_and_nothing_else_changes(text: str) -> None:
    ready = prepare("sms", sms(text), default_base=BASE, new_code=codes())
    assert ready.plan is not None
    sent = str(ready.request["text"])
    shorts = [ready.plan.short_url(link.code) for link in ready.plan.links]
    assert [found.url for found in find_urls(sent)] == shorts  # only short links remain
    rebuilt = sent
    for link in ready.plan.links:  # put the long URLs back where they were
        rebuilt = rebuilt.replace(ready.plan.short_url(link.code), text[link.start : link.end], 1)
    assert rebuilt == text
