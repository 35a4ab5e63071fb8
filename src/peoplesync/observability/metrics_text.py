"""The Prometheus text of ``/metrics``, made from a snapshot (pure: no I/O)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from peoplesync.observability.heartbeats import Beat
from peoplesync.observability.metrics_snapshot import Snapshot

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def families(
    snapshot: Snapshot, beats: Iterable[Beat], now: datetime
) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
    """Every metric family, in a stable order."""
    up = GaugeMetricFamily(
        "peoplesync_database_up", "1 when the People database answered this scrape, else 0"
    )
    up.add_metric([], 1.0 if snapshot.database_up else 0.0)
    yield up
    state = GaugeMetricFamily(
        "peoplesync_integration_state",
        "1 for each integration's current state (running, paused, api_limit_reached, ...)",
        labels=["integration", "state"],
    )
    for integration, current in sorted(snapshot.states.items()):
        state.add_metric([integration, current], 1.0)
    yield state
    lag = GaugeMetricFamily(
        "peoplesync_sync_lag_seconds",
        "Seconds since each step of each integration last completed a pass",
        labels=["integration", "step"],
    )
    for (integration, step), at in sorted(snapshot.last_sync.items()):
        lag.add_metric([integration, step], max(0.0, (now - at).total_seconds()))
    yield lag
    records = CounterMetricFamily(
        "peoplesync_sync_records",
        "Records each step wrote, by outcome (over the days the counters are kept)",
        labels=["integration", "step", "outcome"],
    )
    for c in snapshot.counts:
        for outcome, written in (
            ("created", c.created),
            ("updated", c.updated),
            ("deleted", c.deleted),
            ("rejected", c.rejected),
        ):
            records.add_metric([c.integration, c.step, outcome], float(written))
    yield records
    calls = CounterMetricFamily(
        "peoplesync_salesforce_api_calls",
        "Salesforce API calls made for each integration (over the days the counters are kept)",
        labels=["integration"],
    )
    for integration, value in sorted(snapshot.api_calls.items()):
        calls.add_metric([integration], float(value))
    yield calls
    backlog = GaugeMetricFamily(
        "peoplesync_push_backlog",
        "People change-log entries past each integration's push position (not pushed yet)",
        labels=["integration"],
    )
    for integration, value in sorted(snapshot.push_backlog.items()):
        backlog.add_metric([integration], float(value))
    yield backlog
    yield from _queues(snapshot, now)
    yield from _report_passes(snapshot)
    yield from _liveness(beats, now)


def _queues(snapshot: Snapshot, now: datetime) -> Iterator[GaugeMetricFamily]:
    depth = GaugeMetricFamily(
        "peoplesync_job_queue_depth",
        "Jobs waiting or running, by queue (outbox; procrastinate:<queue> when present)",
        labels=["queue", "state"],
    )
    age = GaugeMetricFamily(
        "peoplesync_job_queue_oldest_age_seconds",
        "Age of the oldest job in each queue and state (0 when empty)",
        labels=["queue", "state"],
    )
    for queue in snapshot.queues:
        depth.add_metric([queue.queue, queue.state], float(queue.jobs))
        waited = (now - queue.oldest).total_seconds() if queue.oldest else 0.0
        age.add_metric([queue.queue, queue.state], max(0.0, waited))
    yield depth
    yield age


def _report_passes(snapshot: Snapshot) -> Iterator[GaugeMetricFamily]:
    at = GaugeMetricFamily(
        "peoplesync_mc_report_last_pass_timestamp_seconds",
        "When each business unit's last report write-back pass ended (Unix time)",
        labels=["unit"],
    )
    rows = GaugeMetricFamily(
        "peoplesync_mc_report_last_pass_rows",
        "Report rows each business unit's last write-back pass wrote, by kind",
        labels=["unit", "kind"],
    )
    events = GaugeMetricFamily(
        "peoplesync_mc_report_last_pass_events",
        "API events each business unit's last write-back pass fired",
        labels=["unit"],
    )
    failed = GaugeMetricFamily(
        "peoplesync_mc_report_last_pass_failed",
        "1 when each business unit's last write-back pass stopped on an error, else 0",
        labels=["unit"],
    )
    for last in snapshot.report_passes:
        at.add_metric([last.unit], last.at.timestamp())
        for kind, written in sorted(last.written.items()):
            rows.add_metric([last.unit, kind], float(written))
        events.add_metric([last.unit], float(last.events))
        failed.add_metric([last.unit], 1.0 if last.error else 0.0)
    yield at
    yield rows
    yield events
    yield failed


def _liveness(beats: Iterable[Beat], now: datetime) -> Iterator[GaugeMetricFamily]:
    last = GaugeMetricFamily(
        "peoplesync_worker_last_heartbeat_timestamp_seconds",
        "When each worker loop of this process last showed it was alive (Unix time)",
        labels=["integration", "loop"],
    )
    age = GaugeMetricFamily(
        "peoplesync_worker_heartbeat_age_seconds",
        "Seconds since each worker loop of this process last showed it was alive",
        labels=["integration", "loop"],
    )
    for beat in beats:
        last.add_metric([beat.integration, beat.loop], beat.at.timestamp())
        age.add_metric([beat.integration, beat.loop], max(0.0, (now - beat.at).total_seconds()))
    yield last
    yield age


class _Fixed(Collector):
    def __init__(self, made: list[GaugeMetricFamily | CounterMetricFamily]) -> None:
        self.made = made

    def collect(self) -> Iterable[GaugeMetricFamily | CounterMetricFamily]:
        return self.made


def render(snapshot: Snapshot, beats: Iterable[Beat], now: datetime) -> bytes:
    """The Prometheus text exposition of a snapshot and the heartbeats."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Fixed(list(families(snapshot, beats, now))))
    return generate_latest(registry)
