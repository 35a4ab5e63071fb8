"""Run every benchmark module listed here; each prints one JSON document per figure set."""

from __future__ import annotations

import importlib
import sys

MODULES: list[str] = []


def main() -> int:
    """Run the selected benchmarks (all when no names are given)."""
    names = sys.argv[1:] or MODULES
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        module.main()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
