"""Services on a test's People store, as ``wiring.services`` builds them for a process."""

from __future__ import annotations

from pathlib import Path

from peoplesync.people.sql_store import SqlPeopleStore
from peoplesync.secret_box import SecretBox
from peoplesync.settings import Settings
from peoplesync.sync.org_client import client_opener
from peoplesync.sync.profile.step_edits import ClientOpener
from peoplesync.wiring import Services, build_services


def services_on(
    store: SqlPeopleStore,
    data_dir: Path,
    *,
    settings: Settings | None = None,
    box: SecretBox | None = None,
    open_org: ClientOpener | None = None,
    stored_orgs: bool = False,
) -> Services:
    """Services sharing ``store`` (its engine and clock); ``stored_orgs`` opens clients of the
    integrations stored under the settings' key, ``open_org`` some other way (else none)."""
    used = settings or Settings(data_dir=data_dir, secret_key=None)
    sealed = box or SecretBox.from_data_dir(used.data_dir, used.secret_key)
    opener = client_opener(sealed) if stored_orgs else open_org
    return build_services(
        used, store.engine, people=store, clock=store.clock, box=sealed, open_org=opener
    )
