"""Storing a connection once its login worked: the one-integration-per-org rule, outbound
steps held for review on a new integration, then the integration itself.

Every way of connecting (``peoplesync salesforce connect``, the web app's Add integration,
``peoplesync demo``) ends here, so they refuse and hold alike. The hold is stored before the
integration: a crash in between leaves a held profile and no integration, never an
integration whose outbound steps write before anyone looked at them.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, replace

from sqlalchemy.ext.asyncio import AsyncEngine

from peoplesync.people.store import PeopleStore
from peoplesync.secret_box import SecretBox
from peoplesync.sync.integration import (
    Integration,
    integration_key,
    integration_names,
    save_integration,
)
from peoplesync.sync.organization import check_organization
from peoplesync.sync.profile.store import hold_outbound, load_profile


@dataclass(frozen=True)
class Connected:
    """What storing a connection did."""

    integration: Integration
    new: bool  # no integration of this name was stored before
    awaiting_review: tuple[str, ...]  # outbound steps off until the user enables them


async def store_connection(
    store: PeopleStore,
    engine: AsyncEngine,
    box: SecretBox,
    integration: Integration,
    organization_id: str,
) -> Connected:
    """Store ``integration`` (logged in to ``organization_id``): refused with
    OrgAlreadyConnectedError when another integration holds that org (OrgChangedError when
    a reconnect reached another org); a new integration's outbound steps start off."""
    names = await integration_names(engine)
    await check_organization(store, box, integration.name, organization_id, names)
    new = integration.name not in names
    if new:
        held = await hold_outbound(store, integration.name)
    else:
        held = (await load_profile(store, integration.name)).awaiting_review()
    stored = replace(integration, organization_id=organization_id)
    await save_integration(store, box, stored)
    return Connected(stored, new, tuple(held))


def review_hint(name: str, steps: tuple[str, ...] | list[str]) -> str:
    """How to review and switch on outbound steps that await review."""
    option = "" if name == "default" else f" --name {shlex.quote(name)}"
    listed = " ".join(shlex.quote(step) for step in steps)
    return (
        f"see what they would write with `peoplesync push run --preview{option}`, then switch "
        f"them on with `peoplesync steps enable {listed}{option}` (or on the integration's "
        "Steps page in the web app)"
    )


async def not_connected_note(store: PeopleStore, name: str) -> str | None:
    """What to say after changing the profile of an integration that is not connected (one
    may be prepared before connecting, or ``--name`` was mistyped); None when it is."""
    if await store.get_state(integration_key(name)) is not None:
        return None
    return (
        f"no integration named {name!r} is connected: this profile waits for one (peoplesync "
        f"salesforce connect --name {shlex.quote(name)} ...); the web app's Salesforce page "
        "lists the connected ones"
    )


__all__ = ["Connected", "not_connected_note", "review_hint", "store_connection"]
