"""The addresses a provider posts reports to, one set per provider account.

Each account's URLs carry a token derived from peoplesync's secret key (``SecretBox.derive``),
so a receiver checks a report without anything new being configured or stored. The token is
a credential: it is never logged.
"""

from __future__ import annotations

import hmac
from urllib.parse import quote

from peoplesync.errors import ConfigurationError
from peoplesync.messaging.message import Webhooks
from peoplesync.secret_box import SecretBox

PATH = "/hooks/messaging/{account}/{kind}"
KINDS = ("delivery", "seen", "inbound", "click")


def hook_token(box: SecretBox, account: str) -> str:
    return box.derive(f"peoplesync messaging webhook v1:{account}")


def token_matches(box: SecretBox, account: str, given: str | None) -> bool:
    """Constant-time check of a receiver's ``?token=``."""
    return bool(given) and hmac.compare_digest(hook_token(box, account), given or "")


def hook_urls(public_url: str, box: SecretBox, account: str) -> Webhooks:
    """The delivery, seen, inbound (MO) and click URLs of ``account`` under peoplesync's address."""
    if not public_url.startswith(("https://", "http://")):
        raise ConfigurationError(
            f"public URL {public_url!r} is not an http(s) address",
            hint="give the address the provider reaches peoplesync at, e.g. https://people.example.com",
        )
    base = public_url.rstrip("/")
    token = hook_token(box, account)
    path = {kind: PATH.format(account=quote(account, safe=""), kind=kind) for kind in KINDS}
    return Webhooks(
        delivery_url=f"{base}{path['delivery']}?token={token}",
        seen_url=f"{base}{path['seen']}?token={token}",
        inbound_url=f"{base}{path['inbound']}?token={token}",
        click_url=f"{base}{path['click']}?token={token}",
    )
