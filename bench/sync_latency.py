"""Sync latency (Salesforce commit to People commit) and API calls of an idle continuous sync.

Usage: python -m bench sync_latency [--leads N] [--edits N] [--poll-edits N]
       [--poll-interval S] [--idle-seconds S] [--idle-poll-interval S] [--phases LIST]
Prints one JSON document. Every phase starts a fresh org (`peoplesync sandbox salesforce`,
seeded with leads, a third as many contacts and a tenth of that in accounts) and runs the real CLI as a second process: `peoplesync salesforce connect`,
then `peoplesync sync run --follow --json`. Edits are REST PATCHes of a lead's City to a unique
value; t0 is taken just before the PATCH is sent, the arrival is the `at` of the People
change-log row (origin `salesforce:default`) that carries the value. Both clocks are this
machine's wall clock.

Phases:
  cdc       real time (Change Data Capture), --reconcile-every 3600 so polling cannot help
  poll      --no-stream --interval S, edits at random moments
  idle      two idle syncs side by side (each with its own org): real time with the default
            reconciliation (900 s), and --no-stream --interval S; metered calls counted from
            the org's request log over the window and extrapolated to a day
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

PEOPLESYNC = [sys.executable, "-m", "peoplesync.cli.main"]
API = "/services/data/v59.0"
ORIGIN = "salesforce:default"
DAY = 86_400.0


class Org:
    """A served sandbox org and an HTTP client of the benchmark's own (not the sync's)."""

    def __init__(self, data_dir: Path, leads: int) -> None:
        data_dir.mkdir(parents=True)
        self.log = (data_dir / "server.log").open("w")
        self.process = subprocess.Popen(
            [
                *PEOPLESYNC,
                "sandbox",
                "salesforce",
                "--data-dir",
                str(data_dir),
                "--port",
                "0",
                "--seed-leads",
                str(leads),
                "--seed-contacts",
                str(max(1, leads // 3)),
                "--seed-accounts",
                str(max(1, leads // 30)),
                "--seed",
                "1",
                "--api-limit",
                "10000000",
            ],
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
        )
        assert self.process.stdout is not None
        self.info: dict[str, Any] = json.loads(self.process.stdout.readline())
        self.http = httpx.Client(
            base_url=self.info["instance_url"], verify=self.info["ca_cert"], timeout=60
        )
        token = self.http.post(
            "/services/oauth2/token",
            data={
                "grant_type": "password",
                "client_id": self.info["client_id"],
                "client_secret": self.info["client_secret"],
                "username": self.info["username"],
                "password": self.info["password"],
            },
        )
        token.raise_for_status()
        self.http.headers["Authorization"] = f"Bearer {token.json()['access_token']}"

    def lead_ids(self, count: int) -> list[str]:
        query = urllib.parse.quote(
            f"SELECT Id FROM Lead WHERE IsConverted = false ORDER BY Id LIMIT {count}"
        )
        response = self.http.get(f"{API}/query?q={query}")
        response.raise_for_status()
        return [r["Id"] for r in response.json()["records"]]

    def set_city(self, lead_id: str, city: str) -> None:
        response = self.http.patch(f"{API}/sobjects/Lead/{lead_id}", json={"City": city})
        response.raise_for_status()

    def requests(self) -> list[dict[str, Any]]:
        response = self.http.get("/sandbox/admin/requests?limit=100000")
        response.raise_for_status()
        return list(response.json())

    def close(self) -> None:
        self.http.close()
        self.process.terminate()
        self.process.wait(timeout=60)
        if self.process.stdout is not None:
            self.process.stdout.close()
        self.log.close()


class Sync:
    """The CLI sync of one org into its own data directory, run as `sync run --follow`."""

    def __init__(self, org: Org, data_dir: Path, *options: str) -> None:
        data_dir.mkdir(parents=True)
        self.data_dir = data_dir
        info = org.info
        self.env = {
            **os.environ,
            "PEOPLESYNC_DATA_DIR": str(data_dir),
            "PEOPLESYNC_SF_CLIENT_SECRET": info["client_secret"],
            "PEOPLESYNC_SF_PASSWORD": info["password"],
            "PEOPLESYNC_DEFAULT_PHONE_REGION": "US",
        }
        subprocess.run(
            [
                *PEOPLESYNC,
                "salesforce",
                "connect",
                "--login-url",
                info["login_url"],
                "--client-id",
                info["client_id"],
                "--username",
                info["username"],
                "--ca-cert",
                info["ca_cert"],
            ],
            capture_output=True,
            env=self.env,
            timeout=120,
            check=True,
        )
        self.errors = (data_dir / "sync.log").open("w")
        self.process = subprocess.Popen(
            [*PEOPLESYNC, "sync", "run", "--follow", "--json", *options],
            stdout=subprocess.PIPE,
            stderr=self.errors,
            text=True,
            env=self.env,
        )
        self.passes: list[tuple[float, dict[str, Any]]] = []  # (wall time, summary)
        self._first = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.strip():
                self.passes.append((time.time(), json.loads(line)))
                self._first.set()
        self._first.set()

    def wait_first_pass(self, timeout: float = 300) -> None:
        """Until the initial pass has printed its summary."""
        if not self._first.wait(timeout) or not self.passes:
            self.errors.flush()
            raise RuntimeError(
                f"sync printed no pass: {(self.data_dir / 'sync.log').read_text()[-2000:]}"
            )

    def arrivals(self, markers: re.Pattern[str]) -> dict[str, float]:
        """Marker -> epoch seconds of the first People change-log row that carries it."""
        found: dict[str, float] = {}
        database = self.data_dir / "peoplesync.db"
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30) as conn:
            rows = conn.execute(
                "SELECT at, changes FROM change_log WHERE origin = ? ORDER BY seq", (ORIGIN,)
            ).fetchall()
        for at, changes in rows:
            for marker in markers.findall(str(changes)):
                if marker not in found:
                    found[marker] = _epoch(at)
        return found

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=60)
        if self.process.stdout is not None:
            self.process.stdout.close()
        self.errors.close()


def _epoch(at: Any) -> float:
    moment = at if isinstance(at, datetime) else datetime.fromisoformat(str(at))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # stored as naive UTC on SQLite
    return moment.timestamp()


@contextmanager
def org_and_sync(tmp: Path, name: str, leads: int, *options: str) -> Iterator[tuple[Org, Sync]]:
    org = Org(tmp / f"{name}-org", leads)
    sync: Sync | None = None
    try:
        sync = Sync(org, tmp / f"{name}-data", *options)
        sync.wait_first_pass()
        yield org, sync
    finally:
        if sync is not None:
            sync.close()
        org.close()


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def latency_figures(latencies_ms: list[float], edits: int) -> dict[str, Any]:
    if not latencies_ms:
        return {"edits": edits, "arrived": 0}
    return {
        "edits": edits,
        "arrived": len(latencies_ms),
        "p50_ms": round(percentile(latencies_ms, 0.50)),
        "p95_ms": round(percentile(latencies_ms, 0.95)),
        "max_ms": round(max(latencies_ms)),
        "min_ms": round(min(latencies_ms)),
        "mean_ms": round(statistics.fmean(latencies_ms)),
    }


def edit_and_measure(
    org: Org, sync: Sync, edits: int, pause: tuple[float, float], settle: float
) -> list[float]:
    """PATCH ``edits`` leads (one edit each) with random pauses; latencies in ms."""
    run = uuid.uuid4().hex[:6]
    pattern = re.compile(rf"lat{run}-\d+")
    leads = org.lead_ids(edits)
    if len(leads) < edits:
        raise RuntimeError(f"only {len(leads)} unconverted leads for {edits} edits")
    sent: dict[str, float] = {}
    for i, lead in enumerate(leads):
        marker = f"lat{run}-{i:04d}"
        sent[marker] = time.time()
        org.set_city(lead, marker)
        time.sleep(random.uniform(*pause))
    deadline = time.monotonic() + settle
    arrived = sync.arrivals(pattern)
    while len(arrived) < len(sent) and time.monotonic() < deadline:
        time.sleep(0.5)
        arrived = sync.arrivals(pattern)
    return [(arrived[m] - t0) * 1000 for m, t0 in sent.items() if m in arrived]


def warm_up(org: Org, sync: Sync, timeout: float = 60) -> None:
    """One edit through the stream, so the measured ones find it subscribed."""
    marker = f"warm{uuid.uuid4().hex[:6]}"
    org.set_city(org.lead_ids(1)[0], marker)
    deadline = time.monotonic() + timeout
    while marker not in sync.arrivals(re.compile(re.escape(marker))):
        if time.monotonic() > deadline:
            raise RuntimeError("the warm-up edit never reached People")
        time.sleep(0.2)


def measure_cdc(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    with org_and_sync(tmp, "cdc", args.leads, "--reconcile-every", "3600") as (org, sync):
        warm_up(org, sync)
        latencies = edit_and_measure(org, sync, args.edits, (0.2, 0.5), settle=60)
        polls = len(sync.passes)
    return {
        **latency_figures(latencies, args.edits),
        "mode": "--follow --reconcile-every 3600",
        "polling_passes": polls,  # 1: only the initial pass, so every edit came by CDC
        "target_p95_ms": 1000,
    }


def measure_polling(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    interval = args.poll_interval
    options = ("--no-stream", "--interval", str(interval))
    with org_and_sync(tmp, "poll", args.leads, *options) as (org, sync):
        latencies = edit_and_measure(
            org, sync, args.poll_edits, (0.0, interval * 1.3), settle=3 * interval + 30
        )
    return {
        **latency_figures(latencies, args.poll_edits),
        "mode": f"--follow --no-stream --interval {interval:g}",
        "target_max_ms": round((interval + 1) * 1000),
    }


def _kind(path: str) -> str:
    if path.startswith("/cometd/"):
        return "cometd"
    if path.startswith("/services/oauth2/"):
        return "oauth"
    if path.startswith("/sandbox/"):
        return "sandbox_admin"
    return "rest"


def _shape(path: str) -> str:
    path = re.sub(r"/v\d+\.\d+", "", path)
    return re.sub(r"/[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?(?=/|$)", "/{id}", path)


def idle_figures(
    sync: Sync, log: list[dict[str, Any]], started: float, seconds: float, calls_per_pass: float
) -> dict[str, Any]:
    counts = Counter(_kind(e["path"]) for e in log)
    shapes = Counter(_shape(e["path"]) for e in log if _kind(e["path"]) == "rest")
    passes = sum(1 for when, _ in sync.passes if when >= started)
    scale = DAY / seconds
    return {
        "window_seconds": round(seconds, 1),
        "window_cometd_calls": counts["cometd"],
        "window_rest_calls": counts["rest"],
        "window_oauth_calls": counts["oauth"],
        "window_polling_passes": passes,
        "window_rest_calls_by_path": dict(shapes.most_common()),
        "rest_calls_per_idle_pass": calls_per_pass,
        "cometd_calls_per_day": round(counts["cometd"] * scale),
    }


def measure_idle(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    """Both idle syncs at once, each against its own org, over the same window."""
    interval = args.idle_poll_interval
    with (
        org_and_sync(tmp, "idle-rt", args.leads) as (rt_org, rt_sync),
        org_and_sync(tmp, "idle-poll", args.leads, "--no-stream", "--interval", str(interval)) as (
            poll_org,
            poll_sync,
        ),
    ):
        time.sleep(5)  # the change streams handshake and subscribe after the first pass
        rt_before, poll_before = len(rt_org.requests()), len(poll_org.requests())
        started, clock = time.time(), time.monotonic()
        time.sleep(args.idle_seconds)
        seconds = time.monotonic() - clock
        rt_log = rt_org.requests()[rt_before:]
        poll_log = poll_org.requests()[poll_before:]
    rt_log = [e for e in rt_log if _kind(e["path"]) != "sandbox_admin"]
    poll_log = [e for e in poll_log if _kind(e["path"]) != "sandbox_admin"]
    poll_passes = sum(1 for when, _ in poll_sync.passes if when >= started)
    poll_rest = sum(1 for e in poll_log if _kind(e["path"]) == "rest")
    per_pass = round(poll_rest / poll_passes, 2) if poll_passes else 0.0
    polling = idle_figures(poll_sync, poll_log, started, seconds, per_pass)
    polling["mode"] = f"--follow --no-stream --interval {interval:g}"
    polling["rest_calls_per_day"] = round(per_pass * DAY / interval)
    polling["metered_calls_per_day"] = (
        polling["rest_calls_per_day"] + polling["cometd_calls_per_day"]
    )
    realtime = idle_figures(rt_sync, rt_log, started, seconds, per_pass)
    realtime["mode"] = "--follow (--reconcile-every 900)"
    # A window shorter than the reconciliation period may hold no reconciliation pass: the
    # passes per day are 86400 / 900, each as costly as an idle poll measured above.
    realtime["rest_calls_per_day"] = round(per_pass * DAY / 900)
    realtime["metered_calls_per_day"] = (
        realtime["rest_calls_per_day"] + realtime["cometd_calls_per_day"]
    )
    realtime["metered_calls_per_day_without_cometd"] = realtime["rest_calls_per_day"]
    return {"idle_realtime": realtime, "idle_polling": polling}


def main(argv: list[str] | None = None) -> None:
    """Entry point used by ``python -m bench``."""
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="bench sync_latency")
    parser.add_argument("--leads", type=int, default=300)
    parser.add_argument("--edits", type=int, default=100)
    parser.add_argument("--poll-edits", type=int, default=30)
    parser.add_argument("--poll-interval", type=float, default=5.0)
    parser.add_argument("--idle-seconds", type=float, default=330.0)
    parser.add_argument("--idle-poll-interval", type=float, default=60.0)
    parser.add_argument("--phases", default="cdc,poll,idle")
    args = parser.parse_args(argv)
    phases = set(args.phases.split(","))
    result: dict[str, Any] = {"benchmark": "sync_latency", "leads": args.leads}
    with tempfile.TemporaryDirectory() as tmp:
        if "cdc" in phases:
            result["cdc"] = measure_cdc(args, Path(tmp))
        if "poll" in phases:
            result["polling"] = measure_polling(args, Path(tmp))
        if "idle" in phases:
            result |= measure_idle(args, Path(tmp))
    result["python"] = platform.python_version()
    result["machine"] = f"{platform.machine()}, {os.cpu_count()} cores"
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
