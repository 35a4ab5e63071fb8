"""Waiting for the worker threads of aiosqlite connections a test opened to end.

A connection that failed to open (or was cancelled) hands its last answer to the test's
event loop from its own thread; if that thread runs after the loop has closed, it raises
"Event loop is closed" into whichever test runs next. Joining the threads first prevents it.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


@asynccontextmanager
async def sqlite_threads_joined(wait: float = 30.0) -> AsyncIterator[None]:
    """Join the aiosqlite threads started inside the block once it ends."""
    before = set(threading.enumerate())
    try:
        yield
    finally:
        for thread in set(threading.enumerate()) - before:
            if "_connection_worker_thread" in thread.name:
                await asyncio.to_thread(thread.join, wait)
