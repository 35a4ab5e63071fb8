"""Read or change a number's inbound configuration for one provider account.

``inbound_number`` reads the number's configurations at the provider, works out its state
(``inbound_numbers.status_of``) and, when asked, takes the one action that state allows:
create a configuration forwarding replies to the account's inbound hook, remove ours, or
reassign another application's configuration to peoplesync. It answers the state after.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass

import httpx

from peoplesync.errors import NotFoundError
from peoplesync.messaging.accounts import PROVIDERS_ON_WEB, ProviderAccounts
from peoplesync.messaging.hook_urls import hook_urls
from peoplesync.messaging.inbound_numbers import (
    Action,
    NumberStatus,
    check_action,
    config_channel,
    normalise_number,
    status_of,
)
from peoplesync.messaging.providers.infobip.inbound_config import InboundConfigClient
from peoplesync.secret_box import SecretBox


@dataclass(frozen=True)
class InboundNumberRequest:
    account: str
    number: str
    channel: str = "sms"
    action: Action | None = None


async def inbound_number(
    accounts: ProviderAccounts,
    box: SecretBox,
    public_url: str,
    request: InboundNumberRequest,
    *,
    http: httpx.AsyncClient | None = None,
) -> NumberStatus:
    """The number's state after ``request.action`` (if any) was taken."""
    number = normalise_number(request.number)
    channel = config_channel(request.channel)
    hook = hook_urls(public_url, box, request.account).inbound_url or ""
    account = (await accounts.infobip_accounts()).get(request.account)
    if account is None:
        raise NotFoundError(
            f"no provider account named {request.account!r}",
            record=request.account,
            field="account",
            hint="see peoplesync providers list",
            web_hint=PROVIDERS_ON_WEB,
        )
    verify: ssl.SSLContext | bool = (
        ssl.create_default_context(cafile=account.ca_cert) if account.ca_cert else True
    )
    async with (
        httpx.AsyncClient(timeout=30, verify=verify) if http is None else _kept(http) as client
    ):
        provider = InboundConfigClient(account, client)
        status = status_of(number, channel, await provider.configurations(number, channel), hook)
        if request.action is None:
            return status
        check_action(status, request.action)
        if request.action is Action.REMOVE:
            assert status.config is not None  # state OURS has a configuration
            await provider.delete(number, status.config.key)
        else:  # CREATE, or USE_DEFAULT: a POST updates the number's default configuration
            await provider.forward(number, channel, hook)
        return status_of(number, channel, await provider.configurations(number, channel), hook)


class _kept:
    """An injected client used as a context manager without closing it."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self._http = http

    async def __aenter__(self) -> httpx.AsyncClient:
        return self._http

    async def __aexit__(self, *_: object) -> None:
        return None
