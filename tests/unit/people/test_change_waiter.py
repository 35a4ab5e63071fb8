"""The change waiter's settling: a lone change that finds the waiter idle starts its pass at
once; changes that were already waiting (committed while the last pass ran), or a second
commit right behind the first, are settled as a burst."""

from __future__ import annotations

import asyncio

from peoplesync.people.change_waiter import ChangeWaiter, first_quiet

# Long enough that a wait cannot end on it: each wait below ends on a change or fails.
NEVER = 60.0


def test_only_a_backlog_settles_from_the_first_wake() -> None:
    assert first_quiet(backlog=True, quiet=0.02, lone=0.0) == 0.02
    assert first_quiet(backlog=False, quiet=0.02, lone=0.0) == 0.0
    assert first_quiet(backlog=False, quiet=0.02, lone=0.5) == 0.5


async def test_a_lone_change_ends_the_wait_without_settling() -> None:
    waiter = ChangeWaiter(quiet=10 * NEVER, longest=10 * NEVER)  # settling would outlast NEVER
    waiting = asyncio.create_task(waiter.wait(timeout=10 * NEVER))
    await asyncio.sleep(0)  # the wait has begun: the waiter is idle
    waiter.notify()
    assert await asyncio.wait_for(waiting, NEVER) is True
    assert waiter.wakes == 1


async def test_changes_waiting_before_the_wait_settle_as_a_burst() -> None:
    waiter = ChangeWaiter(quiet=10 * NEVER, longest=10 * NEVER)
    waiter.notify()  # committed while the last pass ran
    await asyncio.sleep(0)
    waiting = asyncio.create_task(waiter.wait(timeout=10 * NEVER))
    for _ in range(20):
        await asyncio.sleep(0)
    assert not waiting.done()  # settling: waiting for the burst's next commit
    waiter.longest = 0.0  # the next commit ends the settling
    waiter.notify()
    assert await asyncio.wait_for(waiting, NEVER) is True
    assert waiter.wakes == 1


async def test_a_second_commit_behind_a_lone_one_turns_it_into_a_burst() -> None:
    # Here a lone change settles for longer than a burst does: the second commit switches.
    waiter = ChangeWaiter(quiet=0.0, longest=10 * NEVER, lone=10 * NEVER)
    waiting = asyncio.create_task(waiter.wait(timeout=10 * NEVER))
    await asyncio.sleep(0)
    waiter.notify()
    for _ in range(20):
        await asyncio.sleep(0)
    assert not waiting.done()  # settling after the lone change
    waiter.notify()  # a second commit: the burst's quiet (none here) applies from now
    assert await asyncio.wait_for(waiting, NEVER) is True
    assert waiter.wakes == 1
