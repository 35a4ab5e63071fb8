"""CPU time of a process from Linux /proc: the figure other load on the machine distorts least."""

from __future__ import annotations

import os
from pathlib import Path


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds process ``pid`` has used so far (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load_average() -> float:
    """The machine's one-minute load average."""
    return round(os.getloadavg()[0], 2)


def children(pid: int) -> list[int]:
    """The processes ``pid`` started (its direct children, alive now)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        listed = (task / "children").read_text().split()
        found.extend(int(each) for each in listed)
    return found


def tree_cpu_seconds(pid: int, helpers: list[int]) -> float:
    """CPU seconds of ``pid`` and of ``helpers`` (processes it started, still running)."""
    return cpu_seconds(pid) + sum(cpu_seconds(each) for each in helpers)


def database_backends(database_url: str) -> list[int]:
    """The PostgreSQL backends serving ``database_url``'s database now (other than this
    query's own); empty when it is not PostgreSQL."""
    if not database_url.startswith("postgresql"):
        return []
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(database_url).set(drivername="postgresql")
    query = (
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
        "AND pid <> pg_backend_pid()"
    )
    with psycopg.connect(url.render_as_string(hide_password=False)) as conn:
        return [int(row[0]) for row in conn.execute(query)]


def processes_cpu_seconds(pids: list[int]) -> dict[int, float]:
    """CPU seconds of each of ``pids`` still readable here (a database on this machine)."""
    found: dict[int, float] = {}
    for pid in pids:
        try:
            found[pid] = cpu_seconds(pid)
        except OSError:  # gone, or in another machine's or container's process table
            continue
    return found
