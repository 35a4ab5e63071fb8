"""The send loop of ``messages work`` with a scripted sender: when it stops, what it adds up,
and what it tells."""

from __future__ import annotations

import asyncio
import contextlib

from peoplesync.messaging.providers.infobip.client import InfobipAccount
from peoplesync.messaging.sender import SendRound
from peoplesync.workers.events import Event, PassDone
from peoplesync.workers.outcome import Finished
from peoplesync.workers.sends import ReopeningSender, Rounds, accounts_fingerprint, send_rounds


class ScriptedSender:
    """Rounds from a script; the last repeats, and setting ``stop_after`` rounds sets stop."""

    def __init__(self, rounds: list[SendRound], stop: asyncio.Event, stop_after: int = 0) -> None:
        self.rounds, self.stop, self.stop_after = rounds, stop, stop_after
        self.ran = 0

    async def run_once(self) -> SendRound:
        self.ran += 1
        if self.stop_after and self.ran >= self.stop_after:
            self.stop.set()
        return self.rounds.pop(0) if len(self.rounds) > 1 else self.rounds[0]

    async def pause(self, idle: float) -> float:
        return idle


async def test_until_idle_adds_up_the_rounds_and_stops_when_nothing_is_due() -> None:
    stop = asyncio.Event()
    sender = ScriptedSender(
        [
            SendRound(claimed=4, accepted=3, rejected=1),
            SendRound(claimed=2, accepted=1, retried=1, stopped=["acme"]),
            SendRound(),
        ],
        stop,
    )
    heard: list[Event] = []
    outcome = await send_rounds(sender, stop, until_idle=True, events=heard.append)
    assert outcome == Finished({"claimed": 6, "accepted": 4, "rejected": 1, "retried": 1})
    assert sender.ran == 3
    assert [e.report.stopped for e in heard if isinstance(e, PassDone)] == [[], ["acme"], []]


async def test_once_runs_one_round_even_with_work_left() -> None:
    stop = asyncio.Event()
    sender = ScriptedSender([SendRound(claimed=500, accepted=500)], stop)
    outcome = await send_rounds(sender, stop, once=True)
    assert sender.ran == 1 and outcome.report["accepted"] == 500


async def test_following_idles_between_empty_rounds_until_stopped() -> None:
    stop = asyncio.Event()
    sender = ScriptedSender([SendRound(claimed=1, accepted=1), SendRound()], stop, stop_after=4)
    outcome = await send_rounds(sender, stop, idle_wait=0)
    assert sender.ran == 4 and outcome.report["claimed"] == 1


async def test_a_stop_before_the_first_round_sends_nothing() -> None:
    stop = asyncio.Event()
    stop.set()
    sender = ScriptedSender([SendRound(claimed=1)], stop)
    assert (await send_rounds(sender, stop)).report["claimed"] == 0
    assert sender.ran == 0


class Accounts:
    """Stand-in provider accounts: a fingerprint that changes when ``version`` does."""

    def __init__(self) -> None:
        self.version = 1
        self.closed = 0
        self.now = 0.0

    async def fingerprint(self) -> str:
        return f"v{self.version}"

    async def opener(self, clients: contextlib.AsyncExitStack) -> Rounds:
        clients.callback(self._closed)
        return ScriptedSender([SendRound(claimed=self.version)], asyncio.Event())

    def _closed(self) -> None:
        self.closed += 1


async def test_the_sender_is_opened_again_when_the_accounts_change() -> None:
    accounts = Accounts()
    sender = ReopeningSender(
        accounts.opener, accounts.fingerprint, recheck=5.0, monotonic=lambda: accounts.now
    )
    async with sender:
        assert (await sender.run_once()).claimed == 1
        accounts.version = 2  # an account added: not looked at before ``recheck`` passes
        assert (await sender.run_once()).claimed == 1
        accounts.now = 5.0
        assert (await sender.run_once()).claimed == 2
        assert (sender.opened, accounts.closed) == (2, 1)
        accounts.now = 10.0  # unchanged: the open sender stays
        assert (await sender.run_once()).claimed == 2
        assert sender.opened == 2
    assert accounts.closed == 2


def test_the_fingerprint_changes_with_any_account_detail() -> None:
    one = {"a": InfobipAccount("a", "https://x", "key1")}
    assert accounts_fingerprint(one) == accounts_fingerprint(dict(one))
    assert accounts_fingerprint(one) != accounts_fingerprint(
        {"a": InfobipAccount("a", "https://x", "key2")}
    )
    assert accounts_fingerprint(one) != accounts_fingerprint(
        {**one, "b": InfobipAccount("b", "https://x", "key1")}
    )


async def test_following_waits_after_a_round_that_drained_what_was_due() -> None:
    """A full round is followed at once; one that was not full by ``gather_wait`` (cut
    short by stop), so what is enqueued meanwhile goes in one claim."""
    stop = asyncio.Event()
    sender = ScriptedSender(
        [SendRound(claimed=500, full=True), SendRound(claimed=3), SendRound(claimed=1)], stop
    )
    running = asyncio.ensure_future(send_rounds(sender, stop, gather_wait=3600))
    for _ in range(200):
        await asyncio.sleep(0)
    assert sender.ran == 2  # the full round's successor ran; the partial one's waits
    stop.set()
    outcome = await asyncio.wait_for(running, timeout=10)
    assert outcome.report["claimed"] == 503 and sender.ran == 2


async def test_until_idle_does_not_wait_between_partial_rounds() -> None:
    stop = asyncio.Event()
    sender = ScriptedSender([SendRound(claimed=3), SendRound(claimed=2), SendRound()], stop)
    outcome = await asyncio.wait_for(
        send_rounds(sender, stop, until_idle=True, gather_wait=3600), timeout=10
    )
    assert outcome.report["claimed"] == 5 and sender.ran == 3


async def test_a_change_counted_in_this_process_reopens_the_sender_before_the_next_round() -> None:
    """An account added through the web app beside the loop is used by the next round, not
    after ``recheck`` seconds."""
    accounts = Accounts()
    changes = [0]
    sender = ReopeningSender(
        accounts.opener,
        accounts.fingerprint,
        recheck=3600.0,
        monotonic=lambda: accounts.now,
        changed=lambda: changes[0],
    )
    async with sender:
        assert (await sender.run_once()).claimed == 1
        accounts.version, changes[0] = 2, 1
        assert (await sender.run_once()).claimed == 2
        assert (await sender.run_once()).claimed == 2
        assert sender.opened == 2
