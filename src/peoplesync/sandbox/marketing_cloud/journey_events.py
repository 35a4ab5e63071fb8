"""Wait Until Event for the sandbox's journey runner: contacts waiting on an API event."""

from __future__ import annotations

import asyncio

from peoplesync.sandbox.marketing_cloud.store import SandboxStore


class EventWatch:
    """Wait Until Event: contacts waiting on an event definition key, resumed by events the
    sandbox stores at or after the moment they started waiting."""

    def __init__(self, store: SandboxStore, keys: list[str], poll: float) -> None:
        self._store, self._keys, self._poll = store, keys, poll
        self._waiting: dict[tuple[str, str], list[tuple[float, asyncio.Future[None]]]] = {}
        self._position = 0

    async def start(self) -> None:
        found = await self._store.events_after(0, self._keys)
        self._position = found[-1][0] if found else 0

    async def wait(self, key: str, contact: str, since: float, seconds: float) -> bool:
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (since, waiter)
        self._waiting.setdefault((key, contact), []).append(entry)
        try:
            await asyncio.wait_for(asyncio.shield(waiter), seconds)
            return True
        except TimeoutError:
            return False
        finally:
            left = self._waiting.get((key, contact), [])
            if entry in left:
                left.remove(entry)

    async def watch(self) -> None:
        while True:
            await asyncio.sleep(self._poll)
            for position, key, contact, at in await self._store.events_after(
                self._position, self._keys
            ):
                self._position = position
                for since, waiter in self._waiting.get((key, contact), []):
                    if at >= since - 1.0 and not waiter.done():  # clocks of two processes
                        waiter.set_result(None)
