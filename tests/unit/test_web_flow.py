"""The web-server flow's pure parts: the authorize URL and the redirect's checks."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlparse

import pytest

from peoplesync.errors import ConfigurationError
from peoplesync.salesforce import web_flow
from peoplesync.salesforce.failure import ReconnectNeededError


def test_authorize_url_carries_an_s256_challenge_of_a_fresh_verifier() -> None:
    first = web_flow.start("https://login.example/", "app", "http://127.0.0.1:9/callback")
    second = web_flow.start("https://login.example/", "app", "http://127.0.0.1:9/callback")
    query = dict(parse_qsl(urlparse(first.url).query))
    assert first.url.startswith("https://login.example/services/oauth2/authorize?")
    assert query["code_challenge"] == web_flow.challenge_of(first.verifier)
    assert query["code_challenge_method"] == "S256"
    assert query["state"] == first.state
    assert first.verifier != second.verifier and first.state != second.state
    assert first.verifier not in repr(first)


def test_redirect_checks() -> None:
    flow = web_flow.start("https://login.example", "app", "http://127.0.0.1:9/callback")
    ok = f"http://127.0.0.1:9/callback?code=abc&state={flow.state}"
    assert web_flow.code_from(flow, ok) == "abc"
    with pytest.raises(ConfigurationError, match="state differs"):
        web_flow.code_from(flow, "http://127.0.0.1:9/callback?code=abc&state=other")
    denied = f"http://127.0.0.1:9/callback?error=access_denied&state={flow.state}"
    with pytest.raises(ReconnectNeededError, match="access_denied"):
        web_flow.code_from(flow, denied)
