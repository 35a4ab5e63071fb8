"""Report URL tokens: derived from the secret key, per account; hidden in log lines."""

from __future__ import annotations

import logging

from cryptography.fernet import Fernet

from peoplesync.messaging.hook_urls import hook_token, hook_urls, token_matches
from peoplesync.secret_box import SecretBox
from peoplesync.web.messaging_hooks import RedactTokens


def test_tokens_follow_the_key_and_the_account() -> None:
    key = Fernet.generate_key()
    box, same, other = SecretBox(key), SecretBox(key), SecretBox(Fernet.generate_key())
    assert hook_token(box, "main") == hook_token(same, "main")
    assert hook_token(box, "main") != hook_token(box, "main2")
    assert hook_token(box, "main") != hook_token(other, "main")
    assert key.decode() not in hook_token(box, "main")
    assert token_matches(box, "main", hook_token(same, "main"))
    assert not token_matches(box, "main", hook_token(other, "main"))
    assert not token_matches(box, "main", None) and not token_matches(box, "main", "")


def test_urls_quote_the_account_name() -> None:
    box = SecretBox(Fernet.generate_key())
    urls = hook_urls("https://p.example/", box, "a/b")
    assert urls.delivery_url == (
        f"https://p.example/hooks/messaging/a%2Fb/delivery?token={hook_token(box, 'a/b')}"
    )
    assert urls.seen_url is not None and "/a%2Fb/seen?token=" in urls.seen_url


def test_access_log_lines_hide_the_token() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5", "POST", "/hooks/messaging/main/seen?token=abc123&x=1", "1.1", 200),
        None,
    )
    assert RedactTokens().filter(record)
    assert "abc123" not in record.getMessage()
    assert "token=<hidden>&x=1" in record.getMessage()
