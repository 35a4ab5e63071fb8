"""Run benchmarks: `python -m bench` runs all, `python -m bench NAME [args]` runs one."""

from __future__ import annotations

import importlib
import sys

MODULES = [
    "people_upsert",
    "sandbox_org",
    "inbound_transfer",
    "sync_latency",
    "outbound_push",
    "create_attempts",
    "sent_updates",
    "push_latency",
    "web_latency",
    "messaging_send",
    "journey_execute",
    "report_ingest",
    "speed_limit",
    "workers_scale",
    "tracked_redirect",
    "mc_write_back",
    "mc_report_sync",
    "journey_run",
    "mc_report_loops",
    "two_way_soak",
]


def main() -> int:
    """Run one benchmark with its own arguments, or all with their defaults."""
    if len(sys.argv) > 1:
        importlib.import_module(f"bench.{sys.argv[1]}").main(sys.argv[2:])
        return 0
    for name in MODULES:
        importlib.import_module(f"bench.{name}").main([])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
