"""The layers of docs/architecture.md, checked on the package's imports (late ones too)."""

from __future__ import annotations

import pytest

from tests.import_graph import import_graph

# A layer (the package's first folder or module below ``peoplesync``) and what it may not import.
FORBIDDEN = {
    "people": {"salesforce", "sync", "messaging", "marketing_cloud", "web", "workers", "cli"},
    "salesforce": {"people", "sync", "messaging", "marketing_cloud", "web", "workers", "cli"},
    "sync": {"messaging", "marketing_cloud", "web", "workers", "cli"},
    "messaging": {"salesforce", "sync", "marketing_cloud", "web", "workers", "cli"},
    "marketing_cloud": {"salesforce", "sync", "web", "workers", "cli"},
    "wiring": {"web", "workers", "cli"},
    "web": {"cli"},
    "workers": {"cli"},
}
BASE = ("errors", "settings", "clock", "secret_box")


def layer(module: str) -> str:
    """``peoplesync.sync.inbound.runner.runner`` -> ``sync``; the CLI modules are ``cli``."""
    parts = module.split(".")
    name = parts[1] if len(parts) > 1 else module
    if name.endswith("_cli") or module in ("peoplesync.cli.serve", "peoplesync.cli.main"):
        return "cli"
    return name


def _table_module(target: str, graph: dict[str, set[str]]) -> bool:
    """``target`` declares tables (``tables``, ``account_tables``), or is a package that only
    names one on the way (``from peoplesync.people import tables``)."""
    if target.rsplit(".", 1)[-1].endswith("tables"):
        return True
    return any(other.startswith(f"{target}.") for other in graph)


def crossings(graph: dict[str, set[str]]) -> list[str]:
    """Every import that breaks a rule, as ``module -> target``."""
    wrong = []
    for module, targets in sorted(graph.items()):
        here = layer(module)
        for target in sorted(targets):
            there = layer(target)
            if there in FORBIDDEN.get(here, set()):
                wrong.append(f"{module} -> {target}")
            elif here == "sandbox" and there != "sandbox":
                wrong.append(f"{module} -> {target} (a sandbox imports nothing of the core)")
            elif here in BASE and there not in BASE:
                wrong.append(f"{module} -> {target} (the base imports nothing above it)")
            elif here == "schema" and not _table_module(target, graph):
                wrong.append(f"{module} -> {target} (the schema imports table modules only)")
    return wrong


@pytest.mark.parametrize(
    ("graph", "broken"),
    [
        ({"peoplesync.messaging.x": {"peoplesync.sync.y"}}, True),
        ({"peoplesync.web.x": {"peoplesync.cli.main.main"}}, True),
        ({"peoplesync.sandbox.x": {"peoplesync.errors"}}, True),
        ({"peoplesync.errors": {"peoplesync.people.model"}}, True),
        ({"peoplesync.marketing_cloud.x": {"peoplesync.messaging.y"}}, False),
        ({"peoplesync.cli.main.main": {"peoplesync.web.app"}}, False),
        ({"peoplesync.schema": {"peoplesync.workers.queue.job_log"}}, True),
        ({"peoplesync.schema": {"peoplesync.people", "peoplesync.people.job_tables"}}, False),
    ],
)
def test_the_rules_see_a_crossing(graph: dict[str, set[str]], broken: bool) -> None:
    for module in list(graph):
        for target in graph[module]:
            graph.setdefault(target, set())
    assert bool(crossings(graph)) is broken


def test_every_import_stays_within_its_layer_or_below() -> None:
    graph = import_graph()
    assert "peoplesync.messaging.outbox" in graph  # the walk found the package
    assert crossings(graph) == []
