"""PostgreSQL's pool pings a connection only after it idled: a busy pool spends no round trip
on it, and a connection the server dropped while idle is replaced before use."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from peoplesync.people import database
from peoplesync.people.database import create_engine
from tests.conftest import POSTGRES_URL

pytestmark = pytest.mark.postgres


async def test_a_connection_used_moments_ago_is_not_pinged_and_an_idle_dead_one_is_replaced(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine = create_engine(POSTGRES_URL, pool_size=1, max_overflow=0)
    dialect = engine.sync_engine.dialect
    pings: list[Any] = []
    real_ping = dialect.do_ping

    def counted(dbapi_connection: Any) -> bool:
        pings.append(dbapi_connection)
        return real_ping(dbapi_connection)

    monkeypatch.setattr(dialect, "do_ping", counted)
    try:
        pids = []
        for _ in range(3):
            async with engine.connect() as conn:
                pids.append((await conn.execute(sa.text("SELECT pg_backend_pid()"))).scalar())
        assert len(set(pids)) == 1  # one pooled connection, reused
        assert pings == []  # reused at once: no ping
        killer = create_engine(POSTGRES_URL)
        try:
            async with killer.connect() as conn:
                await conn.execute(sa.text("SELECT pg_terminate_backend(:p)"), {"p": pids[0]})
        finally:
            await killer.dispose()
        monkeypatch.setattr(database, "IDLE_PING", 0.0)  # every checked-in connection is idle
        async with engine.connect() as conn:
            pid = (await conn.execute(sa.text("SELECT pg_backend_pid()"))).scalar()
        assert len(pings) == 1  # the dead one failed its ping ...
        assert pid != pids[0]  # ... and a new connection answered
    finally:
        await engine.dispose()
