"""Marketing Cloud business units: MID, installed-package credentials and settings.

The client secret, the JWT signing secret and the Key Management salt keys (each under its
``customerKey``, see ``salt_keys``) are sealed at rest and never shown again; a unit is shown
by its name, MID, client id, endpoints and the names of its salt keys.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from peoplesync.clock import Clock
from peoplesync.errors import NotFoundError, SettingError, SettingTakenError
from peoplesync.marketing_cloud import salt_keys
from peoplesync.marketing_cloud.signed_body import key_bytes
from peoplesync.marketing_cloud.tables import business_units
from peoplesync.marketing_cloud.unit_checks import UnitSettings, problems
from peoplesync.marketing_cloud.unit_checks import check as _check
from peoplesync.marketing_cloud.unit_clashes import clashes
from peoplesync.people.model import new_id
from peoplesync.secret_box import SecretBox

_u = business_units


@dataclass(frozen=True)
class UnitInfo:
    """A business unit as shown: no secret, only whether each one is set."""

    name: str
    mid: str
    client_id: str
    auth_url: str
    has_jwt_secret: bool
    has_salt_key: bool
    default_account: str | None
    short_domain: str | None
    report_storage: str
    created_at: datetime
    event_definition_key: str | None = None
    reports_webhook_url: str | None = None
    inbound_webhook_url: str | None = None
    clicks_webhook_url: str | None = None
    ca_cert: str | None = None
    salt_key_names: tuple[str, ...] = ()  # the named salt keys' customerKeys (not secret)


@dataclass(frozen=True)
class UnitKeys:
    """A unit's opened secrets, for the routes that verify Journey Builder's calls:
    ``signing_keys`` verify a call that names no ``customerKey`` (the JWT secret, the unnamed
    salt key), ``salt_keys`` by name one that does."""

    info: UnitInfo
    client_secret: str
    signing_keys: tuple[bytes, ...]
    salt_keys: Mapping[str, bytes] = field(default_factory=dict)

    def keys_for(self, customer_key: str | None) -> tuple[bytes, ...] | None:
        """The keys that may have signed a call naming ``customer_key``; None when the unit
        has no salt key by that name."""
        if customer_key is None:
            return self.signing_keys
        found = self.salt_keys.get(customer_key)
        return (found,) if found is not None else None


class BusinessUnits:
    """Stored business units."""

    def __init__(self, engine: AsyncEngine, box: SecretBox, clock: Clock) -> None:
        self._engine = engine
        self._box = box
        self._clock = clock

    @property
    def engine(self) -> AsyncEngine:
        return self._engine

    @property
    def clock(self) -> Clock:
        return self._clock

    @asynccontextmanager
    async def _refusing_taken(
        self, name: str | None, mid: str, other_than: str | None
    ) -> AsyncIterator[AsyncConnection]:
        """A transaction that refuses a taken name or MID by name, before writing and, when
        another transaction took it meanwhile, from the database's unique constraint."""
        try:
            async with self._engine.begin() as conn:
                for problem in await clashes(conn, name, mid, other_than):
                    raise problem
                yield conn
        except sa.exc.IntegrityError:
            async with self._engine.connect() as conn:
                for problem in await clashes(conn, name, mid, other_than):
                    raise problem from None
            raise

    async def taken(
        self, name: str | None, mid: str, other_than: str | None = None
    ) -> list[SettingTakenError]:
        """The name and the MID, each when another unit has it (a form shows all at once)."""
        async with self._engine.connect() as conn:
            return await clashes(conn, name, mid.strip(), other_than)

    async def add(self, unit: UnitSettings) -> UnitInfo:
        """Store a unit; each wrong field is refused by name with how to fix it."""
        _check(unit)
        async with self._refusing_taken(unit.name, unit.mid.strip(), None) as conn:
            await conn.execute(
                sa.insert(_u).values(
                    id=new_id(),
                    name=unit.name,
                    mid=unit.mid.strip(),
                    client_id=unit.client_id.strip(),
                    auth_url=unit.auth_url.strip().rstrip("/"),
                    client_secret_sealed=self._box.seal(unit.client_secret),
                    jwt_secret_sealed=self._box.seal(unit.jwt_secret) if unit.jwt_secret else None,
                    salt_key_sealed=self._sealed_salts(_salts_given(unit, {})),
                    default_account=unit.default_account or None,
                    short_domain=unit.short_domain or None,
                    report_storage=unit.report_storage,
                    created_at=self._clock.now(),
                    ca_cert=(unit.ca_cert or "").strip() or None,
                    **_write_back(unit),
                )
            )
        return await self.get(unit.name)

    async def edit(self, name: str, unit: UnitSettings) -> UnitInfo:
        """Replace a unit's settings (its name stays); a secret left empty keeps the stored
        one, so an edit form never needs them back."""
        current = await self.keys(name)
        stored_salts = await self._salts(name)
        checked = replace(
            unit, name=name, client_secret=unit.client_secret or current.client_secret
        )
        _check(checked)
        values: dict[str, object] = {
            "mid": checked.mid.strip(),
            "client_id": checked.client_id.strip(),
            "auth_url": checked.auth_url.strip().rstrip("/"),
            "default_account": checked.default_account or None,
            "short_domain": (checked.short_domain or "").strip() or None,
            "report_storage": checked.report_storage,
            "ca_cert": (checked.ca_cert or "").strip() or None,
            **_write_back(checked),
        }
        if unit.client_secret:
            values["client_secret_sealed"] = self._box.seal(unit.client_secret)
        if unit.jwt_secret:
            values["jwt_secret_sealed"] = self._box.seal(unit.jwt_secret)
        if unit.salt_key:
            values["salt_key_sealed"] = self._sealed_salts(_salts_given(unit, stored_salts))
        async with self._refusing_taken(None, checked.mid.strip(), name) as conn:
            await conn.execute(sa.update(_u).where(_u.c.name == name).values(**values))
        return await self.get(name)

    async def edit_write_back(
        self,
        name: str,
        *,
        report_storage: str | None = None,
        event_definition_key: str | None = None,
        reports_webhook_url: str | None = None,
        inbound_webhook_url: str | None = None,
        clicks_webhook_url: str | None = None,
        ca_cert: str | None = None,
    ) -> UnitInfo:
        """Change how reports are written back (and the CA file); ``None`` keeps a field,
        ``""`` clears it."""
        current = await self.get(name)
        changed = UnitSettings(
            name=name,
            mid=current.mid,
            client_id=current.client_id,
            auth_url=current.auth_url,
            client_secret="unchanged",  # noqa: S106 (only checked, never stored)
            report_storage=report_storage or current.report_storage,
            event_definition_key=_pick(event_definition_key, current.event_definition_key),
            reports_webhook_url=_pick(reports_webhook_url, current.reports_webhook_url),
            inbound_webhook_url=_pick(inbound_webhook_url, current.inbound_webhook_url),
            clicks_webhook_url=_pick(clicks_webhook_url, current.clicks_webhook_url),
            ca_cert=_pick(ca_cert, None),  # checked only when given
        )
        _check(changed)
        kept = {} if ca_cert is None else {"ca_cert": changed.ca_cert}
        async with self._engine.begin() as conn:
            await conn.execute(
                sa.update(_u)
                .where(_u.c.name == name)
                .values(report_storage=changed.report_storage, **kept, **_write_back(changed))
            )
        return await self.get(name)

    async def set_salt_key(self, name: str, key_name: str, key: str) -> UnitInfo:
        """Store ``key`` as the unit's salt key named ``key_name`` (replacing one of that
        name); a bad name or a key that is not hex is a :class:`SettingError` by field."""
        problem = salt_keys.named_problem(key_name.strip(), key)
        if problem is not None:
            raise problem
        stored = await self._salts(name)
        stored[key_name.strip() or salt_keys.UNNAMED] = key.strip()
        async with self._engine.begin() as conn:
            await conn.execute(
                sa.update(_u)
                .where(_u.c.name == name)
                .values(salt_key_sealed=self._sealed_salts(stored))
            )
        return await self.get(name)

    async def remove_salt_key(self, name: str, key_name: str) -> UnitInfo:
        """Forget the salt key stored as ``key_name`` (calls naming it are refused from
        then); a name the unit does not have is a :class:`NotFoundError`."""
        stored = await self._salts(name)
        if key_name not in stored:
            raise NotFoundError(
                f"business unit {name!r} has no salt key named {key_name!r}",
                hint="peoplesync marketing-cloud list --json shows salt_key_names",
                web_hint="the unit's page (Marketing Cloud, then the unit) lists its salt key "
                "names; GET /api/v1/marketing-cloud/units/NAME gives salt_key_names",
                record=name,
                field="salt_key_name",
            )
        del stored[key_name]
        async with self._engine.begin() as conn:
            await conn.execute(
                sa.update(_u)
                .where(_u.c.name == name)
                .values(salt_key_sealed=self._sealed_salts(stored))
            )
        return await self.get(name)

    async def _salts(self, name: str) -> dict[str, str]:
        async with self._engine.connect() as conn:
            query = sa.select(_u.c.salt_key_sealed).where(_u.c.name == name)
            row = (await conn.execute(query)).first()
        if row is None:
            raise NotFoundError(
                f"no business unit named {name!r}",
                record=name,
                field="name",
                hint="peoplesync marketing-cloud list shows the units",
                web_hint=UNITS_ON_WEB,
            )
        return salt_keys.opened(self._box.open(row[0]) if row[0] else None)

    def _sealed_salts(self, keys: Mapping[str, str]) -> str | None:
        text = salt_keys.to_text(keys)
        return self._box.seal(text) if text else None

    async def remove(self, name: str) -> bool:
        async with self._engine.begin() as conn:
            result = await conn.execute(sa.delete(_u).where(_u.c.name == name))
        return bool(result.rowcount)

    async def list(self) -> list[UnitInfo]:
        async with self._engine.connect() as conn:
            rows = await conn.execute(sa.select(_u).order_by(_u.c.name))
            return [_info(row, self._salt_names(row)) for row in rows]

    async def get(self, name: str) -> UnitInfo:
        return (await self.keys(name)).info

    async def keys(self, name: str) -> UnitKeys:
        """A unit with its secrets opened; an unknown name is a :class:`NotFoundError`."""
        async with self._engine.connect() as conn:
            row = (await conn.execute(sa.select(_u).where(_u.c.name == name))).first()
        if row is None:
            raise NotFoundError(
                f"no business unit named {name!r}",
                record=name,
                field="name",
                hint="peoplesync marketing-cloud list shows the units",
                web_hint=UNITS_ON_WEB,
            )
        salts = salt_keys.signing_bytes(
            salt_keys.opened(self._box.open(row.salt_key_sealed) if row.salt_key_sealed else None)
        )
        jwt_sealed = row.jwt_secret_sealed
        signing = [key_bytes(self._box.open(jwt_sealed))] if jwt_sealed else []
        if salt_keys.UNNAMED in salts:
            signing.append(salts.pop(salt_keys.UNNAMED))
        return UnitKeys(
            _info(row, tuple(sorted(salts))),
            self._box.open(row.client_secret_sealed),
            tuple(signing),
            salts,
        )

    def _salt_names(self, row: sa.Row[tuple[object, ...]]) -> tuple[str, ...]:
        sealed = row.salt_key_sealed
        names = salt_keys.opened(self._box.open(sealed) if sealed else None)
        return tuple(sorted(name for name in names if name != salt_keys.UNNAMED))


UNITS_ON_WEB = (
    "the Marketing Cloud page lists the business units (GET /api/v1/marketing-cloud/units)"
)


def tls_verify(unit: UnitInfo, ca_cert: str | None = None) -> ssl.SSLContext | bool:
    """How to check the unit's TLS certificates: ``ca_cert`` if given, else the unit's CA file
    (a private sandbox's), else the system's."""
    chosen = ca_cert or unit.ca_cert
    if not chosen:
        return True
    try:
        return ssl.create_default_context(cafile=chosen)
    except (OSError, ssl.SSLError) as error:  # e.g. removed or replaced since it was saved
        whose = "the CA file given" if ca_cert else "its CA file"
        raise SettingError(
            f"business unit {unit.name!r}: {whose} {chosen!r} cannot be read "
            f"({getattr(error, 'strerror', None) or error})",
            hint=f"put the PEM file back, or set another (or none) with: peoplesync "
            f"marketing-cloud edit {unit.name} --ca-cert FILE",
            web_hint="put the PEM file back, or set another (or none) in the unit's page's "
            "CA file field (PATCH /api/v1/marketing-cloud/units/NAME with ca_cert)",
            field="ca_cert",
        ) from None


def _salts_given(unit: UnitSettings, stored: Mapping[str, str]) -> dict[str, str]:
    """The unit's salt keys once the one entered in ``unit`` (if any) is put in its place."""
    keys = dict(stored)
    if unit.salt_key:
        keys[(unit.salt_key_name or "").strip() or salt_keys.UNNAMED] = unit.salt_key.strip()
    return keys


def _info(row: sa.Row[tuple[object, ...]], salt_names: tuple[str, ...]) -> UnitInfo:
    return UnitInfo(
        name=row.name,
        mid=row.mid,
        client_id=row.client_id,
        auth_url=row.auth_url,
        has_jwt_secret=row.jwt_secret_sealed is not None,
        has_salt_key=row.salt_key_sealed is not None,
        default_account=row.default_account,
        short_domain=row.short_domain,
        report_storage=row.report_storage,
        created_at=row.created_at,
        event_definition_key=row.event_definition_key,
        reports_webhook_url=row.reports_webhook_url,
        inbound_webhook_url=row.inbound_webhook_url,
        clicks_webhook_url=row.clicks_webhook_url,
        ca_cert=row.ca_cert,
        salt_key_names=salt_names,
    )


def _pick(given: str | None, current: str | None) -> str | None:
    if given is None:
        return current
    return given.strip() or None


def _write_back(unit: UnitSettings) -> dict[str, str | None]:
    return {
        "event_definition_key": (unit.event_definition_key or "").strip() or None,
        "reports_webhook_url": (unit.reports_webhook_url or "").strip() or None,
        "inbound_webhook_url": (unit.inbound_webhook_url or "").strip() or None,
        "clicks_webhook_url": (unit.clicks_webhook_url or "").strip() or None,
    }


__all__ = ["BusinessUnits", "UnitInfo", "UnitKeys", "UnitSettings", "problems", "tls_verify"]
