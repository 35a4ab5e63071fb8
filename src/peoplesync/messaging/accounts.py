"""Provider accounts: name, kind, per-account base URL and the API key, sealed at rest."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from peoplesync.clock import Clock
from peoplesync.errors import ConfirmationRequiredError, ValidationError
from peoplesync.messaging.providers.infobip.client import InfobipAccount
from peoplesync.messaging.queued_message import QUEUED, SENDING
from peoplesync.messaging.tables import outbound_messages, provider_accounts, provider_senders
from peoplesync.people.model import new_id
from peoplesync.secret_box import SecretBox

KINDS = ("infobip",)
# Where the web app and the REST API show the provider accounts (errors' web hints).
PROVIDERS_ON_WEB = (
    "the Messaging -> Providers page lists the provider accounts (GET /api/v1/provider-accounts)"
)
_a = provider_accounts
_m = outbound_messages


class AccountExistsError(ValidationError):
    """A provider account of that name exists."""

    code = "ACCOUNT_EXISTS"


def account_problems(name: str, base_url: str, api_key: str, kind: str) -> list[ValidationError]:
    """What is wrong with a new account, each naming its field (name, base_url, api_key,
    kind); empty when it may be stored."""
    record = name.strip() or "new account"
    problems: list[ValidationError] = []

    def bad(field: str, message: str, hint: str) -> None:
        problems.append(ValidationError(message, record=record, field=field, hint=hint))

    if not name.strip() or len(name) > 100 or name != name.strip() or "/" in name:
        bad("name", "a provider account needs a name of 1 to 100 characters", "e.g. main")
    if kind not in KINDS:
        bad("kind", f"unknown provider kind {kind!r}", "use infobip")
    parts = urlsplit(base_url.strip())
    if parts.scheme not in ("https", "http") or not parts.hostname or " " in base_url.strip():
        bad(
            "base_url",
            f"base URL {base_url!r} is not an http(s) address",
            "copy it from the provider's web interface, e.g. https://xxxx.api.infobip.com",
        )
    elif len(base_url) > 500:
        bad("base_url", "the base URL is over 500 characters", "give the account's API address")
    if not api_key.strip():
        bad("api_key", "the API key is empty", "create one in the provider's web interface")
    elif len(api_key) > 500:
        bad("api_key", "the API key is over 500 characters", "paste the key alone")
    return problems


@dataclass(frozen=True)
class AccountInfo:
    """An account as shown: never its key."""

    name: str
    kind: str
    base_url: str
    created_at: datetime
    ca_cert: str | None = None


class AccountChanges:
    """How many accounts were added or removed through one process's stores: a send loop
    beside the web app (``serve``) looks at it before each round and opens its sender again
    at once, rather than at its next look at the database."""

    def __init__(self) -> None:
        self.count = 0


class ProviderAccounts:
    """Stored provider accounts."""

    def __init__(
        self,
        engine: AsyncEngine,
        box: SecretBox,
        clock: Clock,
        changes: AccountChanges | None = None,
    ) -> None:
        self._engine = engine
        self._box = box
        self._clock = clock
        self.changes = changes or AccountChanges()

    async def add(
        self,
        name: str,
        base_url: str,
        api_key: str,
        kind: str = "infobip",
        *,
        ca_cert: str | None = None,
    ) -> None:
        """Store an account; a bad or taken field is refused naming the field and the fix."""
        problems = account_problems(name, base_url, api_key, kind)
        if problems:
            raise problems[0]
        if ca_cert:
            ca_cert = _readable_ca(ca_cert)
        async with self._engine.begin() as conn:
            taken = await conn.execute(sa.select(_a.c.id).where(_a.c.name == name))
            if taken.first() is not None:
                raise AccountExistsError(
                    f"a provider account named {name!r} exists",
                    record=name,
                    field="name",
                    hint="choose another name, or remove the existing account first "
                    "(peoplesync providers remove NAME)",
                    web_hint="choose another name, or remove the existing account first "
                    "(its Remove button on Messaging -> Providers, or "
                    "DELETE /api/v1/provider-accounts/NAME)",
                )
            await conn.execute(
                sa.insert(_a).values(
                    id=new_id(),
                    name=name,
                    kind=kind,
                    base_url=base_url.strip().rstrip("/"),
                    api_key_sealed=self._box.seal(api_key.strip()),
                    created_at=self._clock.now(),
                    ca_cert=ca_cert or None,
                )
            )
        self.changes.count += 1

    async def waiting(self, name: str) -> int:
        """How many of the account's messages are queued or being sent."""
        query = sa.select(sa.func.count()).where(
            _m.c.account == name, _m.c.state.in_((QUEUED, SENDING))
        )
        async with self._engine.connect() as conn:
            return int((await conn.execute(query)).scalar_one())

    async def remove(self, name: str, *, force: bool = False) -> bool:
        """Remove an account and its sender names; refused while it has messages waiting to be
        sent, unless ``force`` (they then wait for an account of that name)."""
        waiting = 0 if force else await self.waiting(name)
        if waiting:
            raise ConfirmationRequiredError(
                f"{waiting} message(s) wait to be sent through {name!r}",
                affected=waiting,
                record=name,
                field="name",
                hint="remove it anyway (--force, or confirm) and they wait until an account of "
                "that name is added again",
            )
        async with self._engine.begin() as conn:
            result = await conn.execute(sa.delete(_a).where(_a.c.name == name))
            await conn.execute(
                sa.delete(provider_senders).where(provider_senders.c.account == name)
            )
        self.changes.count += 1
        return bool(result.rowcount)

    async def list(self) -> list[AccountInfo]:
        async with self._engine.connect() as conn:
            rows = await conn.execute(sa.select(_a).order_by(_a.c.name))
            return [AccountInfo(r.name, r.kind, r.base_url, r.created_at, r.ca_cert) for r in rows]

    async def infobip_accounts(self) -> dict[str, InfobipAccount]:
        """Every Infobip account with its key opened, for the sender."""
        async with self._engine.connect() as conn:
            rows = (await conn.execute(sa.select(_a).where(_a.c.kind == "infobip"))).all()
        return {
            row.name: InfobipAccount(
                row.name, row.base_url, self._box.open(row.api_key_sealed), row.ca_cert
            )
            for row in rows
        }


def _readable_ca(path: str) -> str:
    """The absolute path of a readable PEM CA file, or a ValidationError naming the field."""
    try:
        ssl.create_default_context(cafile=path)
    except (OSError, ssl.SSLError):
        raise ValidationError(
            f"no readable PEM CA certificate at {path!r}",
            field="ca_cert",
            hint="give the ca_cert file the sandbox provider printed, or leave it out",
        ) from None
    return str(Path(path).resolve())
