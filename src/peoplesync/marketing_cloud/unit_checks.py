"""A business unit's settings as entered, and what is wrong with them, each problem naming
its field."""

from __future__ import annotations

import re
import ssl
from collections.abc import Iterator
from dataclasses import dataclass

from peoplesync.errors import SettingError
from peoplesync.marketing_cloud import salt_keys

NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,59}$")
STORAGE = ("native", "external")


@dataclass(frozen=True)
class UnitSettings:
    """What a person enters for a business unit (secrets included, never stored in clear)."""

    name: str
    mid: str
    client_id: str
    auth_url: str
    client_secret: str
    jwt_secret: str | None = None
    salt_key: str | None = None
    salt_key_name: str | None = None  # the key's customerKey; none: the unnamed salt key
    default_account: str | None = None
    short_domain: str | None = None
    report_storage: str = "native"
    event_definition_key: str | None = None
    reports_webhook_url: str | None = None
    inbound_webhook_url: str | None = None
    clicks_webhook_url: str | None = None
    ca_cert: str | None = None


def check(unit: UnitSettings) -> None:
    """Raise the first problem of ``unit``."""
    for problem in problems(unit):
        raise problem


def problems(unit: UnitSettings) -> Iterator[SettingError]:
    """Every wrong field of ``unit``, each named (a form shows them all at once)."""
    if not unit.name.strip():
        yield SettingError(
            "a business unit needs a name",
            hint="1 to 60 lower-case letters, digits and dashes, e.g. acme-emea",
            field="name",
        )
    elif not NAME.match(unit.name):
        yield SettingError(
            f"business unit name {unit.name!r} is not usable in a URL",
            hint="use 1 to 60 lower-case letters, digits and dashes, e.g. acme-emea",
            field="name",
        )
    if not unit.mid.strip():
        yield SettingError(
            "the MID is empty",
            hint="the MID is the business unit's number, top right in Marketing Cloud",
            field="mid",
        )
    elif not unit.mid.strip().isdigit():
        yield SettingError(
            f"MID {unit.mid!r} is not a number",
            hint="the MID is the business unit's number, top right in Marketing Cloud",
            field="mid",
        )
    if not unit.client_id.strip():
        yield SettingError(
            "the client id is empty",
            hint="copy it from the installed package",
            field="client_id",
        )
    if not unit.auth_url.strip():
        yield SettingError(
            "the authentication base URI is empty",
            hint="copy the Authentication Base URI from the installed package",
            field="auth_url",
        )
    elif not unit.auth_url.startswith("https://"):
        yield SettingError(
            f"auth URL {unit.auth_url!r} is not an https address",
            hint="copy the Authentication Base URI from the installed package",
            field="auth_url",
        )
    if not unit.client_secret.strip():
        yield SettingError(
            "the client secret is empty",
            hint="set PEOPLESYNC_MC_CLIENT_SECRET (or enter it)",
            field="client_secret",
        )
    salt_problem = salt_keys.named_problem((unit.salt_key_name or "").strip(), unit.salt_key)
    if salt_problem is not None:
        yield salt_problem
    if unit.ca_cert and unit.ca_cert.strip():
        try:
            ssl.create_default_context(cafile=unit.ca_cert.strip())
        except (OSError, ssl.SSLError):
            yield SettingError(
                f"no readable PEM CA certificate at {unit.ca_cert.strip()!r}",
                hint="give the ca_cert file the sandbox printed, or leave it empty",
                field="ca_cert",
            )
    if unit.report_storage not in STORAGE:
        yield SettingError(
            f"report storage {unit.report_storage!r} is unknown",
            hint="use native or external",
            field="report_storage",
        )
    for label, field, url in (
        ("reports webhook", "reports_webhook_url", unit.reports_webhook_url),
        ("inbound webhook", "inbound_webhook_url", unit.inbound_webhook_url),
        ("clicks webhook", "clicks_webhook_url", unit.clicks_webhook_url),
    ):
        if url and not url.strip().startswith(("https://", "http://")):
            yield SettingError(
                f"{label} URL {url!r} is not an http(s) address",
                hint="give the full address the rows are POSTed to, e.g. https://example.org/mc",
                field=field,
            )
    key = unit.event_definition_key
    if key and (not key.strip() or "." in key or len(key) > 200):
        yield SettingError(
            f"event definition key {key!r} is not usable",
            hint="copy the API event's key (no period, at most 200 characters)",
            field="event_definition_key",
        )
