"""The loops' schedule keeper on a real store with a manual clock: a schedule changed while
the loop runs (as `steps schedule`, the API or the Steps page change it) takes effect at the
next cycle, with no restart; manual steps never run; failed passes are due again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from peoplesync.clock import ManualClock
from peoplesync.people.sql_store import SqlPeopleStore
from peoplesync.sync.mapping import Direction
from peoplesync.sync.profile.schedule_edits import set_schedule
from peoplesync.sync.status.schedule_keeper import ScheduleKeeper, step_schedules
from peoplesync.sync.status.store import StatusStore

START = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)


async def _ran(statuses: StatusStore, clock: ManualClock, *steps: str) -> None:
    """What a completed pass leaves: each step's last sync, a moment after the pass began."""
    clock.advance(timedelta(seconds=3))
    for step in steps:
        await statuses.mark_synced("default", step, clock.now())


async def test_a_changed_schedule_applies_at_the_next_cycle(store: SqlPeopleStore) -> None:
    clock = ManualClock(START)
    statuses = StatusStore(store.engine, clock)
    await set_schedule(store, "default", "Lead", {"kind": "hours", "every": 1})
    await set_schedule(store, "default", "Contact", {"kind": "manual"})
    keeper = ScheduleKeeper(store, statuses, "default", clock)  # the running loop's keeper

    first = await keeper.due()  # never ran: the hourly step and the real-time one run
    assert first.now == {"Lead", "Account"}
    assert first.realtime == {"Account"}
    await _ran(statuses, clock, "Lead", "Account")
    clock.advance(timedelta(minutes=5))
    waiting = await keeper.due()
    assert waiting.now == set()
    assert waiting.next_at == START + timedelta(minutes=15)  # Account's reconciliation poll

    # While the loop runs, a person makes Lead run every minute: the next cycle sees it.
    await set_schedule(store, "default", "Lead", {"kind": "minutes", "every": 1})
    assert (await keeper.due()).now == {"Lead"}
    await _ran(statuses, clock, "Lead")

    # ...then manual only: nothing runs, however long the loop waits.
    await set_schedule(store, "default", "Lead", {"kind": "manual"})
    await set_schedule(store, "default", "Account", {"kind": "manual"})
    clock.advance(timedelta(days=3))
    idle = await keeper.due()
    assert (idle.now, idle.next_at) == (frozenset(), None)
    assert idle.wait(clock.now(), 60.0) == 60.0  # looks again (for a changed schedule) soon

    # A daily step runs at its time of day, once.
    await set_schedule(store, "default", "Contact", {"kind": "daily", "at": "06:30"})
    clock.set(datetime(2026, 6, 5, 6, 0, tzinfo=UTC))
    early = await keeper.due()  # never ran: waits for 06:30
    assert (early.now, early.next_at) == (frozenset(), datetime(2026, 6, 5, 6, 30, tzinfo=UTC))
    clock.set(datetime(2026, 6, 5, 6, 30, tzinfo=UTC))
    assert (await keeper.due()).now == {"Contact"}
    await _ran(statuses, clock, "Contact")
    later = await keeper.due()
    assert later.now == set()
    assert later.next_at == datetime(2026, 6, 6, 6, 30, tzinfo=UTC)


async def test_a_pass_that_did_not_complete_is_due_again(store: SqlPeopleStore) -> None:
    clock = ManualClock(START)
    statuses = StatusStore(store.engine, clock)
    await set_schedule(store, "default", "Lead", {"kind": "hours", "every": 6})
    keeper = ScheduleKeeper(store, statuses, "default", clock)
    assert "Lead" in (await keeper.due()).now
    clock.advance(timedelta(seconds=30))  # the pass failed: no last sync was recorded
    assert "Lead" in (await keeper.due()).now
    await _ran(statuses, clock, "Lead")
    clock.advance(timedelta(hours=1))
    assert "Lead" not in (await keeper.due()).now


async def test_steps_of_one_pass_stay_together(store: SqlPeopleStore) -> None:
    clock = ManualClock(START)
    statuses = StatusStore(store.engine, clock)
    keeper = ScheduleKeeper(store, statuses, "default", clock)
    await keeper.due()  # all real-time steps run first
    clock.advance(timedelta(seconds=1))
    await statuses.mark_synced("default", "Account", clock.now())
    clock.advance(timedelta(seconds=20))  # Lead and Contact took longer
    await statuses.mark_synced("default", "Lead", clock.now())
    await statuses.mark_synced("default", "Contact", clock.now())
    clock.set(START + timedelta(seconds=60))
    # polling every minute (no change streams): the three are due together again
    together = await keeper.due(realtime_every=timedelta(seconds=60))
    assert together.now == {"Account", "Lead", "Contact"}


async def test_push_steps_follow_their_shared_schedule(store: SqlPeopleStore) -> None:
    clock = ManualClock(START)
    statuses = StatusStore(store.engine, clock)
    pushes = ScheduleKeeper(store, statuses, "default", clock, Direction.OUTBOUND)
    await store.set_state("integration:default", {"login_url": "https://org.example.com"})
    # the default profile's outbound steps are enabled (no review hold in this store)
    assert (await pushes.due(realtime_every=timedelta(0))).now == {
        "Person to Lead",
        "Person to Contact",
    }
    _profile, changed = await set_schedule(
        store, "default", "Person to Contact", {"kind": "manual"}
    )
    assert changed == ["Person to Lead", "Person to Contact"]
    assert (await pushes.due(realtime_every=timedelta(0))).now == set()
    rows = {row["step"]: row for row in await step_schedules(store, statuses, "default")}
    assert rows["Person to Lead"]["next_run"] is None
    assert rows["Lead"]["next_run"] == clock.now().isoformat()
