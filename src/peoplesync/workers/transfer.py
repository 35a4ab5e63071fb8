"""A transfer or resync started from the command line: every record matching the steps'
filters and the person's own, read from the beginning through the gated loop (or, as a
preview, read and counted with nothing written)."""

from __future__ import annotations

from typing import Any

from peoplesync.clock import SystemClock
from peoplesync.errors import ConfigurationError
from peoplesync.people.store import PeopleStore
from peoplesync.settings import Settings
from peoplesync.sync.profile.store import load_profile
from peoplesync.sync.status.recorder import StatusRecorder
from peoplesync.sync.status.store import StatusStore
from peoplesync.sync.transfer.filter import (
    check_transfer_filter,
    filter_targets,
    lead_status_error,
)
from peoplesync.sync.transfer.runner import finish, transfer_condition, transfer_runner
from peoplesync.sync_session import connected_client, profile_runners
from peoplesync.workers.inbound import ProgressSink, inbound_pass
from peoplesync.workers.loop import Once, run_gated
from peoplesync.workers.outcome import Failed, Finished, Gated


async def run_transfer(
    settings: Settings,
    store: PeopleStore,
    statuses: StatusStore,
    name: str,
    steps: list[str] | None,
    options: dict[str, Any],
    *,
    preview: bool,
    force: bool,
    started_by: str = "sync transfer",
    progress: ProgressSink | None = None,
) -> Finished | Gated | Failed:
    """Transfer (``force``: resync) the chosen ``steps`` (None: every enabled one) with the
    filters in ``options`` (``condition``, ``modified_within_days``, ``lead_statuses``).
    Finished holds the summary by step; an interrupted transfer resumes when run again."""
    async with connected_client(settings, store, name) as client:
        runners = profile_runners(client, store, await load_profile(store, name), name)
        unknown = sorted(set(steps or ()) - set(runners))
        if unknown:
            raise ConfigurationError(
                f"no enabled step named {', '.join(unknown)}",
                hint=f"enabled steps: {', '.join(runners)} (see peoplesync steps list)",
            )
        every = filter_targets(runners)
        picked = [t for t in every if not steps or t.step in steps]
        wrong_status = lead_status_error(options.get("lead_statuses", ()), picked)
        if wrong_status is not None:
            raise wrong_status
        if options.get("condition"):
            await check_transfer_filter(client, options["condition"], picked, every)
        chosen = {
            step_name: transfer_runner(
                runner, transfer_condition(runner, **options), preview=preview, force=force
            )
            for step_name, runner in runners.items()
            if not steps or step_name in steps
        }
        recorder = None
        if not preview:
            recorder = StatusRecorder(statuses, name, client, SystemClock())
            await recorder.install_budget()
        kind = "resync" if force else "transfer"

        async def work() -> dict[str, Any]:
            if progress is None:
                summary = await inbound_pass(
                    client, store, chosen, None, recorder, transfer=kind, started_by=started_by
                )
            else:
                with progress() as show:
                    summary = await inbound_pass(
                        client, store, chosen, show, recorder, transfer=kind, started_by=started_by
                    )
            for runner in chosen.values():
                await finish(runner)
            summary["preview"] = preview
            return summary

        if recorder is None:  # a preview writes nothing: no gate to ask, nothing to record
            return Finished(await work())
        try:
            return await run_gated(Once(work), recorder, recorder.clock, follow=False, interval=0)
        finally:
            await recorder.flush()


__all__ = ["run_transfer"]
