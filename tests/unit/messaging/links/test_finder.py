"""URLs found in body text: punctuation, brackets, query strings, unicode."""

from __future__ import annotations

import pytest

from peoplesync.messaging.links.finder import find_urls


def urls(text: str) -> list[str]:
    return [found.url for found in find_urls(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Sale at https://shop.example.com today", ["https://shop.example.com"]),
        ("See https://shop.example.com.", ["https://shop.example.com"]),
        (
            "Go: https://a.example/x, then http://b.example/y!",
            ["https://a.example/x", "http://b.example/y"],
        ),
        ("Really? https://a.example/faq?", ["https://a.example/faq"]),
        ("And so https://a.example/more…", ["https://a.example/more"]),
        ("(see https://a.example/page)", ["https://a.example/page"]),
        (
            "Wiki https://en.wikipedia.org/wiki/Foo_(bar) ok",
            ["https://en.wikipedia.org/wiki/Foo_(bar)"],
        ),
        ("(https://en.wikipedia.org/wiki/Foo_(bar))", ["https://en.wikipedia.org/wiki/Foo_(bar)"]),
        ("[https://a.example/x]", ["https://a.example/x"]),
        (
            "Track https://a.example/p?id=42&utm_source=sms&q=a%20b#top now",
            ["https://a.example/p?id=42&utm_source=sms&q=a%20b#top"],
        ),
        ("Bücher: https://bücher.example/straße?q=ä.", ["https://bücher.example/straße?q=ä"]),
        ("日本 https://例え.jp/パス。次", ["https://例え.jp/パス"]),
        ('He said "https://a.example/q" twice', ["https://a.example/q"]),
        ("«https://a.example/fr»", ["https://a.example/fr"]),
        ("<https://a.example/angle>", ["https://a.example/angle"]),
        ("HTTPS://A.EXAMPLE/UP", ["HTTPS://A.EXAMPLE/UP"]),
        ("two https://a.example https://a.example", ["https://a.example", "https://a.example"]),
        ("no scheme www.example.com or example.com", []),
        ("empty https:// and https:///path and ftp://x.example", []),
        ("port http://127.0.0.1:8000/x;y", ["http://127.0.0.1:8000/x;y"]),
    ],
)
def test_urls_are_found_without_the_punctuation_around_them(text: str, expected: list[str]) -> None:
    assert urls(text) == expected


def test_positions_point_at_the_url_in_the_text() -> None:
    text = "A (https://a.example/x). B https://b.example?"
    for found in find_urls(text):
        assert text[found.start : found.end] == found.url
    assert [(f.start, f.end) for f in find_urls(text)] == [(3, 22), (27, 44)]
