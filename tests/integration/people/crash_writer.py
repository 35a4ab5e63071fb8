"""A writer process for the crash test: upserts persons p0..pN-1 in batches, forever resumable."""

from __future__ import annotations

import asyncio
import sys

from peoplesync.clock import SystemClock
from peoplesync.people.database import create_engine
from peoplesync.people.model import PersonInput
from peoplesync.people.sql_store import SqlPeopleStore


async def main(url: str, total: int, batch: int) -> None:
    engine = create_engine(url)
    store = SqlPeopleStore(engine, SystemClock(), batch_size=batch)
    for start in range(0, total, batch):
        inputs = [
            PersonInput(
                values={"first_name": f"F{i}", "last_name": f"L{i}", "city": "Crashville"},
                emails=[f"p{i}@example.com", f"p{i}.alt@example.com"],
                phones=[f"+1415555{i % 10000:04d}"],
            )
            for i in range(start, min(start + batch, total))
        ]
        await store.upsert_persons(inputs, origin="crash-test")
        print(f"committed {start}", flush=True)
    await engine.dispose()
    print("done", flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
