"""Concurrent callers' database calls made as one (one transaction, one query), each caller
answered with its own result once that call is done (for writes: committed).

A provider posts reports several requests at a time, and a link in a sent campaign is
followed by many people at once. Each request in a transaction of its own would queue for the
database's write lock (on SQLite the waiting ones poll with the busy handler's growing
sleeps, idle while the lock is already free) and take a pooled connection of its own;
instead each request hands its part here, and the parts that arrive while a group is being
run make the next group. Nothing waits on a timer: an idle process runs a lone part at once,
a busy one runs bigger groups. If a group's call fails, each of its parts is run again
alone, so one part that cannot be written fails only its own caller.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

P = TypeVar("P")  # one caller's part
R = TypeVar("R")  # what writing that part did


class CallGroups(Generic[P, R]):
    """Runs ``call`` (parts -> one result a part, in one transaction) on grouped parts."""

    def __init__(
        self,
        call: Callable[[Sequence[P]], Awaitable[list[R]]],
        size: Callable[[P], int],
        *,
        max_size: int = 2000,
    ) -> None:
        self._call = call
        self._size = size
        self._max_size = max_size
        self._waiting: deque[tuple[P, asyncio.Future[R]]] = deque()
        self._runner: asyncio.Task[None] | None = None

    async def submit(self, part: P) -> R:
        """``part``'s result once its group's call is done (raises what that call raised)."""
        answer: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._waiting.append((part, answer))
        if self._runner is None or self._runner.done():
            self._runner = asyncio.create_task(self._drain())
        return await asyncio.shield(answer)  # a caller going away does not cancel the group

    def _next_group(self) -> list[tuple[P, asyncio.Future[R]]]:
        group: list[tuple[P, asyncio.Future[R]]] = []
        total = 0
        while self._waiting and (
            not group or total + self._size(self._waiting[0][0]) <= self._max_size
        ):
            item = self._waiting.popleft()
            total += self._size(item[0])
            group.append(item)
        return group

    async def _drain(self) -> None:
        while self._waiting:
            group = self._next_group()
            try:
                results = await self._call([part for part, _ in group])
                if len(results) != len(group):  # a caller must never wait forever
                    raise RuntimeError(f"{len(results)} results for {len(group)} parts")
            except Exception as exc:
                if len(group) == 1:
                    _answer(group[0][1], exc)
                    continue
                for part, answer in group:  # alone, so one bad part fails only its caller
                    try:
                        [alone] = await self._call([part])
                    except Exception as error:
                        _answer(answer, error)
                    else:
                        _answer(answer, alone)
                continue
            for (_, answer), result in zip(group, results, strict=True):
                _answer(answer, result)


def _answer(answer: asyncio.Future[R], outcome: R | Exception) -> None:
    if answer.done():
        return
    if isinstance(outcome, Exception):
        answer.set_exception(outcome)
    else:
        answer.set_result(outcome)
