"""An integration's Salesforce client and the inbound runners of its steps: shared by the
command line, the workers and the web app."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager

from peoplesync.clock import SystemClock
from peoplesync.people.store import PeopleStore
from peoplesync.salesforce.client import SalesforceClient
from peoplesync.secret_box import SecretBox
from peoplesync.settings import Settings
from peoplesync.sync.inbound.company import CompanyRunner
from peoplesync.sync.inbound.runner import InboundRunner
from peoplesync.sync.mapping import Direction
from peoplesync.sync.org_client import open_client
from peoplesync.sync.profile.model import Profile, Target


def connected_client(
    settings: Settings, store: PeopleStore, name: str = "default"
) -> AbstractAsyncContextManager[SalesforceClient]:
    """A client for the stored integration ``name`` (its HTTP connections closed on exit)."""
    return open_client(SecretBox.from_data_dir(settings.data_dir, settings.secret_key), store, name)


def profile_runners(
    client: SalesforceClient, store: PeopleStore, profile: Profile, name: str = "default"
) -> dict[str, InboundRunner]:
    """One runner per enabled inbound step, by step name: company steps first (so persons
    find their companies), then person steps, each group in profile order."""
    clock = SystemClock()
    enabled = [s for s in profile.steps if s.enabled and s.direction is Direction.INBOUND]
    runners: dict[str, InboundRunner] = {}
    for step in sorted(enabled, key=lambda s: s.target is not Target.COMPANY):
        kind = CompanyRunner if step.target is Target.COMPANY else InboundRunner
        runners[step.name] = kind(client, store, step.inbound_step(name), clock)
    return runners


__all__ = ["connected_client", "profile_runners"]
