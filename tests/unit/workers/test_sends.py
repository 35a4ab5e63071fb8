"""The send loop of ``messages work`` with a scripted sender: when it stops, what it adds up,
and what it tells."""

from __future__ import annotations

import asyncio

from peoplesync.messaging.sender import SendRound
from peoplesync.workers.events import Event, PassDone
from peoplesync.workers.outcome import Finished
from peoplesync.workers.sends import send_rounds


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
