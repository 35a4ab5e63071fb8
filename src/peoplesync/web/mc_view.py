"""What the Marketing Cloud pages and REST API share: the business units, the public address
the activity endpoints are built on, a unit as shown (never a secret), and the form/body
fields a unit is entered with."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import Request

from peoplesync.marketing_cloud.config_json import ActivityKind, endpoint
from peoplesync.marketing_cloud.units import BusinessUnits, UnitInfo, UnitSettings

# Text fields of a unit, in form order; the secrets are never sent back to a form.
UNIT_FIELDS = (
    "name",
    "mid",
    "client_id",
    "auth_url",
    "client_secret",
    "jwt_secret",
    "salt_key",
    "salt_key_name",
    "default_account",
    "short_domain",
    "report_storage",
    "reports_webhook_url",
    "clicks_webhook_url",
    "inbound_webhook_url",
    "event_definition_key",
    "ca_cert",
)
SECRET_FIELDS = frozenset({"client_secret", "jwt_secret", "salt_key"})
# Where external storage posts each kind of report (the body's "kind" names it).
WEBHOOKS = (
    ("SMS and Omni delivery reports", "reports_webhook_url"),
    ("Clicks (Unified URL Tracking)", "clicks_webhook_url"),
    ("Inbound messages", "inbound_webhook_url"),
)


@dataclass(frozen=True)
class MarketingCloudWeb:
    """The units, and the address Marketing Cloud reaches peoplesync at (``None``: the
    address the page was requested at)."""

    units: BusinessUnits
    public_url: str | None


def mc_of(request: Request) -> MarketingCloudWeb:
    found: MarketingCloudWeb = request.app.state.marketing_cloud
    return found


def base_url(request: Request) -> str:
    """The public URL from the settings, else this request's own address."""
    configured = mc_of(request).public_url
    return (configured or str(request.base_url)).rstrip("/")


def endpoints(base: str, unit: str) -> dict[str, str]:
    """The unit's activity endpoints and their config.json addresses, to paste into the
    installed package."""
    shown: dict[str, str] = {}
    for kind in (ActivityKind.MESSAGE, ActivityKind.REPORTS):
        url = endpoint(base, unit, kind)
        shown[kind.value] = url
        shown[f"{kind.value}_config"] = f"{url}config.json"
    return shown


def salt_key_endpoints(base: str, unit: UnitInfo) -> dict[str, str]:
    """The Message activity endpoint of each named salt key: an activity signed with that
    key is registered there (Journey Builder fetches its config.json under that URL)."""
    return {
        name: endpoint(base, unit.name, ActivityKind.MESSAGE, name) for name in unit.salt_key_names
    }


def unit_json(unit: UnitInfo, base: str) -> dict[str, Any]:
    """A unit as the REST API shows it: settings, whether each secret is set, endpoints."""
    return {
        "name": unit.name,
        "mid": unit.mid,
        "client_id": unit.client_id,
        "auth_url": unit.auth_url,
        "has_client_secret": True,
        "has_jwt_secret": unit.has_jwt_secret,
        "has_salt_key": unit.has_salt_key,
        "salt_key_names": list(unit.salt_key_names),
        "default_account": unit.default_account,
        "short_domain": unit.short_domain,
        "report_storage": unit.report_storage,
        "reports_webhook_url": unit.reports_webhook_url,
        "clicks_webhook_url": unit.clicks_webhook_url,
        "inbound_webhook_url": unit.inbound_webhook_url,
        "event_definition_key": unit.event_definition_key,
        "ca_cert": unit.ca_cert,
        "created_at": unit.created_at.isoformat(),
        "endpoints": endpoints(base, unit.name),
        "salt_key_endpoints": salt_key_endpoints(base, unit),
    }


def unit_values(unit: UnitInfo) -> dict[str, str]:
    """A stored unit as form values (secrets left empty: empty keeps them)."""
    return {
        "name": unit.name,
        "mid": unit.mid,
        "client_id": unit.client_id,
        "auth_url": unit.auth_url,
        "default_account": unit.default_account or "",
        "short_domain": unit.short_domain or "",
        "report_storage": unit.report_storage,
        "reports_webhook_url": unit.reports_webhook_url or "",
        "clicks_webhook_url": unit.clicks_webhook_url or "",
        "inbound_webhook_url": unit.inbound_webhook_url or "",
        "event_definition_key": unit.event_definition_key or "",
        "ca_cert": unit.ca_cert or "",
    }


def settings_from(values: Mapping[str, str | None]) -> UnitSettings:
    """Entered values as unit settings (blank optional fields: none)."""

    def text(name: str) -> str:
        return (values.get(name) or "").strip()

    storage = text("report_storage") or "native"
    return UnitSettings(
        name=text("name"),
        mid=text("mid"),
        client_id=text("client_id"),
        auth_url=text("auth_url"),
        client_secret=text("client_secret"),
        jwt_secret=text("jwt_secret") or None,
        salt_key=text("salt_key") or None,
        salt_key_name=text("salt_key_name") or None,
        default_account=text("default_account") or None,
        short_domain=text("short_domain") or None,
        report_storage=storage,
        event_definition_key=text("event_definition_key") or None,
        reports_webhook_url=text("reports_webhook_url") or None,
        inbound_webhook_url=text("inbound_webhook_url") or None,
        clicks_webhook_url=text("clicks_webhook_url") or None,
        ca_cert=text("ca_cert") or None,
    )
