"""Group commit of concurrent writes: grouping, each caller's own answer, failures kept apart."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from peoplesync.messaging.call_groups import CallGroups


class Recorder:
    """A ``write`` that records each group it was given; a part "bad" fails its group."""

    def __init__(self) -> None:
        self.groups: list[list[str]] = []
        self.gate = asyncio.Event()

    async def write(self, parts: Sequence[str]) -> list[str]:
        self.groups.append(list(parts))
        await self.gate.wait()
        if "bad" in parts:
            raise ValueError("cannot write bad")
        return [part.upper() for part in parts]


async def _until_written(recorder: Recorder, groups: int) -> None:
    for _ in range(100):
        if len(recorder.groups) >= groups:
            return
        await asyncio.sleep(0)
    raise AssertionError(f"{groups} groups were never written")


async def test_parts_arriving_during_a_write_share_the_next_transaction() -> None:
    recorder = Recorder()
    groups = CallGroups(recorder.write, len)
    first = asyncio.create_task(groups.submit("a"))
    await _until_written(recorder, 1)  # "a" is being written (waits at the gate)
    rest = [asyncio.create_task(groups.submit(p)) for p in ("b", "cc", "d")]
    for _ in range(5):
        await asyncio.sleep(0)
    recorder.gate.set()
    assert await first == "A"
    assert [await task for task in rest] == ["B", "CC", "D"]
    assert recorder.groups == [["a"], ["b", "cc", "d"]]


async def test_a_group_holds_at_most_max_size_but_never_less_than_one_part() -> None:
    recorder = Recorder()
    recorder.gate.set()
    groups = CallGroups(recorder.write, len, max_size=4)
    answers = await asyncio.gather(*(groups.submit(p) for p in ("aa", "bb", "c", "dddddd", "e")))
    assert answers == ["AA", "BB", "C", "DDDDDD", "E"]
    assert recorder.groups == [["aa", "bb"], ["c"], ["dddddd"], ["e"]]


async def test_a_part_that_fails_fails_only_its_own_caller() -> None:
    recorder = Recorder()
    groups = CallGroups(recorder.write, len)
    blocker = asyncio.create_task(groups.submit("x"))
    await _until_written(recorder, 1)
    tasks = [asyncio.create_task(groups.submit(p)) for p in ("a", "bad", "c")]
    for _ in range(5):
        await asyncio.sleep(0)
    recorder.gate.set()
    assert await blocker == "X"
    assert await tasks[0] == "A"
    with pytest.raises(ValueError, match="cannot write bad"):
        await tasks[1]
    assert await tasks[2] == "C"
    # the failed group was written again part by part
    assert recorder.groups == [["x"], ["a", "bad", "c"], ["a"], ["bad"], ["c"]]


async def test_a_caller_that_gives_up_does_not_cancel_the_others_write() -> None:
    recorder = Recorder()
    groups = CallGroups(recorder.write, len)
    leaving = asyncio.create_task(groups.submit("a"))
    staying = asyncio.create_task(groups.submit("b"))
    await _until_written(recorder, 1)
    leaving.cancel()
    recorder.gate.set()
    assert await staying == "B"
    assert recorder.groups == [["a", "b"]]


async def test_a_call_answering_the_wrong_number_of_parts_fails_its_callers() -> None:
    async def short(parts: Sequence[str]) -> list[str]:
        return []

    groups = CallGroups(short, len)
    with pytest.raises(RuntimeError, match="0 results for 1 parts"):
        await asyncio.wait_for(groups.submit("a"), timeout=5)
