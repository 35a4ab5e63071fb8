"""Provider accounts: name, kind, per-account base URL and the API key, sealed at rest."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from peoplesync.clock import Clock
from peoplesync.errors import ConfigurationError
from peoplesync.messaging.providers.infobip.client import InfobipAccount
from peoplesync.messaging.tables import provider_accounts
from peoplesync.people.model import new_id
from peoplesync.secret_box import SecretBox

KINDS = ("infobip",)
_a = provider_accounts


@dataclass(frozen=True)
class AccountInfo:
    """An account as shown: never its key."""

    name: str
    kind: str
    base_url: str
    created_at: datetime


class ProviderAccounts:
    """Stored provider accounts."""

    def __init__(self, engine: AsyncEngine, box: SecretBox, clock: Clock) -> None:
        self._engine = engine
        self._box = box
        self._clock = clock

    async def add(self, name: str, base_url: str, api_key: str, kind: str = "infobip") -> None:
        """Store an account; a taken name or a bad URL is refused with how to fix it."""
        if kind not in KINDS:
            raise ConfigurationError(f"unknown provider kind {kind!r}", hint="use infobip")
        if not name.strip() or len(name) > 100:
            raise ConfigurationError("a provider account needs a name of 1 to 100 characters")
        if not base_url.startswith(("https://", "http://")):
            raise ConfigurationError(
                f"base URL {base_url!r} is not an http(s) address",
                hint="copy it from the provider's web interface, e.g. https://xxxx.api.infobip.com",
            )
        if not api_key.strip():
            raise ConfigurationError("the API key is empty", hint="set PEOPLESYNC_PROVIDER_API_KEY")
        async with self._engine.begin() as conn:
            taken = await conn.execute(sa.select(_a.c.id).where(_a.c.name == name))
            if taken.first() is not None:
                raise ConfigurationError(
                    f"a provider account named {name!r} exists",
                    hint="choose another name, or remove the existing account first "
                    "(peoplesync providers remove NAME)",
                )
            await conn.execute(
                sa.insert(_a).values(
                    id=new_id(),
                    name=name,
                    kind=kind,
                    base_url=base_url.rstrip("/"),
                    api_key_sealed=self._box.seal(api_key),
                    created_at=self._clock.now(),
                )
            )

    async def remove(self, name: str) -> bool:
        async with self._engine.begin() as conn:
            result = await conn.execute(sa.delete(_a).where(_a.c.name == name))
        return bool(result.rowcount)

    async def list(self) -> list[AccountInfo]:
        async with self._engine.connect() as conn:
            rows = await conn.execute(sa.select(_a).order_by(_a.c.name))
            return [AccountInfo(r.name, r.kind, r.base_url, r.created_at) for r in rows]

    async def infobip_accounts(self) -> dict[str, InfobipAccount]:
        """Every Infobip account with its key opened, for the sender."""
        async with self._engine.connect() as conn:
            rows = (await conn.execute(sa.select(_a).where(_a.c.kind == "infobip"))).all()
        return {
            row.name: InfobipAccount(row.name, row.base_url, self._box.open(row.api_key_sealed))
            for row in rows
        }
