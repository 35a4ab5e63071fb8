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
