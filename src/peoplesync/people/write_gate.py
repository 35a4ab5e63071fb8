"""The write gate: a SQLite file's writers in this process take turns in line, not by polling.

SQLite lets one connection write at a time. A second writer's ``BEGIN IMMEDIATE`` (or a read
transaction's first write) meets the lock and waits in SQLite's busy handler, which sleeps
and retries (1, 2, 5, 10, 15, 20, 25 ... 100 ms apart): once the lock is free it may still
sleep for tens of milliseconds, and a deferred transaction upgrading to a write can fail
outright. The outbox's writers (execute's batches, the send loop's claims and answers) run
in one process in ``serve``, so they queue on an asyncio lock per database file and event
loop first: each starts as soon as the one before it has committed. Writers in other
processes on the same file still meet the busy handler. PostgreSQL (and an in-memory SQLite
database) gets no gate: ``write_gate`` is then a context that does nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from weakref import WeakKeyDictionary

from sqlalchemy.ext.asyncio import AsyncEngine

_gates: WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Lock]] = WeakKeyDictionary()


@functools.lru_cache(maxsize=64)
def _file(database: str) -> str:
    """The database file's absolute path (two URLs may name one file differently); cached,
    since resolving takes a system call per path component and a gate is taken per write."""
    return str(Path(database).resolve())


def write_gate(engine: AsyncEngine) -> AbstractAsyncContextManager[object]:
    """The gate to hold around a write transaction on ``engine`` (from inside a coroutine)."""
    database = engine.url.database
    if engine.url.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return contextlib.nullcontext()
    key = _file(database)
    by_file = _gates.setdefault(asyncio.get_running_loop(), {})
    gate = by_file.get(key)
    if gate is None:
        gate = by_file[key] = asyncio.Lock()
    return gate
