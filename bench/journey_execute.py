"""Journey Builder execute calls against a real `peoplesync serve`: requests/s and latency.

A business unit with a JWT signing secret is added, `peoplesync serve` runs on loopback, and
N signed execute calls (each a different contact, as Journey Builder sends them) are posted
with C at a time. Every answer must be 200 with ``Success: Message pending``; the figures are
requests/s over the whole run and p50/p95/p99 latency. Prints JSON.
With ``--journey-processes N`` the calls go to ``serve --journey-port`` answered by N
processes of their own; the server CPU is then that of all of them and the main process.

    python -m bench journey_execute --calls 5000 --concurrency 50 [--journey-processes 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.process_cpu import (
    children,
    database_backends,
    load_average,
    processes_cpu_seconds,
    tree_cpu_seconds,
)
from peoplesync.marketing_cloud.signed_body import key_bytes, sign

PEOPLESYNC = [sys.executable, "-m", "peoplesync.cli.main"]  # the moves script rewrites this
SECRET = "bench-jwt-signing-secret-of-the-package"  # noqa: S105 (a benchmark key)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _body(n: int) -> str:
    arguments = [
        {"channel": "sms"},
        {"text": "Your order has shipped"},
        {"shortenUrl": False},
        {"trackClicks": False},
        {"phone": f"+38591{n:07d}"},
    ]
    claims = {
        "inArguments": arguments,
        "activityId": "bench-activity",
        "activityObjectID": "bench-activity",
        "journeyId": "bench-journey",
        "definitionInstanceId": f"run-{n}",
        "keyValue": f"contact-{n}",
        "mode": 0,
    }
    return sign(claims, key_bytes(SECRET))


async def _fire(url: str, bodies: list[str], concurrency: int) -> tuple[list[float], int]:
    """Post ``bodies`` over ``concurrency`` kept-alive connections; latencies and failures.

    A minimal HTTP/1.1 client on asyncio streams: httpx spent several milliseconds of CPU a
    request with 50 connections, so the load generator, not the server, set the rate.
    """
    latencies: list[float] = []
    failures = 0
    address = httpx.URL(url)
    pending = list(reversed(bodies))

    async def connection() -> None:
        nonlocal failures
        reader, writer = await asyncio.open_connection(address.host, address.port)
        try:
            while pending:
                body = pending.pop().encode()
                head = (
                    f"POST {address.raw_path.decode()} HTTP/1.1\r\nHost: {address.netloc.decode()}"
                    f"\r\nContent-Type: application/jwt\r\nContent-Length: {len(body)}\r\n\r\n"
                )
                started = time.perf_counter()
                writer.write(head.encode() + body)
                status, answer = await _response(reader)
                latencies.append(time.perf_counter() - started)
                if status != 200 or not json.loads(answer)["messageStatus"].startswith("Success"):
                    failures += 1
        finally:
            writer.close()

    await asyncio.gather(*(connection() for _ in range(concurrency)))
    return latencies, failures


async def _response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """One HTTP/1.1 response's status and body (the server sends Content-Length)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.lower() == "content-length":
            length = int(value)
    return int(lines[0].split()[1]), await reader.readexactly(length)


def run(
    calls: int,
    concurrency: int,
    database_url: str | None,
    *,
    access_log: bool = False,
    journey_processes: int = 0,
) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as data:
        env = {
            **os.environ,
            "PEOPLESYNC_DATA_DIR": data,
            "PEOPLESYNC_MC_CLIENT_SECRET": "bench-client-secret",
            "PEOPLESYNC_MC_JWT_SECRET": SECRET,
        }
        env.pop("PEOPLESYNC_DATABASE_URL", None)
        if database_url:
            env["PEOPLESYNC_DATABASE_URL"] = database_url
        subprocess.run(
            [
                *PEOPLESYNC,
                "marketing-cloud",
                "add",
                "--name",
                "bench",
                "--mid",
                "1",
                "--client-id",
                "c",
                "--auth-url",
                "https://bench.auth.example",
                "--default-account",
                "main",
            ],
            env=env,
            check=True,
            capture_output=True,
        )
        port = _free_port()
        journey_port = _free_port() if journey_processes else port
        spread = (
            ["--journey-port", str(journey_port), "--journey-processes", str(journey_processes)]
            if journey_processes
            else []
        )
        log = (Path(data) / "serve.log").open("w")
        server = subprocess.Popen(
            [
                *PEOPLESYNC,
                "serve",
                "--port",
                str(port),
                "--access-log" if access_log else "--no-access-log",
                *spread,
            ],
            env=env,
            stdout=log,
            stderr=log,
        )
        url = f"http://127.0.0.1:{journey_port}/journey/bench/message/execute"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    up = [
                        httpx.get(f"http://127.0.0.1:{each}/health", timeout=2).status_code
                        for each in {port, journey_port}
                    ]
                    if up == [200] * len(up):
                        break
                except httpx.TransportError:
                    pass
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((Path(data) / "serve.log").read_text())
                time.sleep(0.2)
            bodies = [_body(n) for n in range(calls)]
            asyncio.run(_fire(url, bodies[:200], concurrency))  # warm up (contacts reused later)
            helpers = children(server.pid)
            backends_before = processes_cpu_seconds(database_backends(database_url or ""))
            cpu_before, load = tree_cpu_seconds(server.pid, helpers), load_average()
            client_before = time.process_time()
            started = time.perf_counter()
            latencies, failures = asyncio.run(_fire(url, bodies[200:], concurrency))
            elapsed = time.perf_counter() - started
            cpu = tree_cpu_seconds(server.pid, helpers) - cpu_before
            client_cpu = time.process_time() - client_before
            backends_after = processes_cpu_seconds(database_backends(database_url or ""))
        except (OSError, asyncio.IncompleteReadError):
            log.flush()
            print((Path(data) / "serve.log").read_text()[-3000:], file=sys.stderr)
            raise
        finally:
            server.terminate()
            server.wait(timeout=20)
            log.close()
    ordered = sorted(latencies)

    def pct(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000, 1)

    return {
        "benchmark": "journey_execute",
        "calls": len(latencies),
        "concurrency": concurrency,
        "failures": failures,
        "database": (database_url or "sqlite").split(":")[0],
        "jwt": True,
        "requests_per_second": round(len(latencies) / elapsed),
        "latency_ms": {
            "p50": pct(0.50),
            "p95": pct(0.95),
            "p99": pct(0.99),
            "mean": round(statistics.fmean(latencies) * 1000, 1),
        },
        # The server's own CPU time a request: what one free core would take, which the
        # wall-clock figures above do not show on a machine other work shares.
        "server_cpu_seconds": round(cpu, 2),
        "server_cpu_ms_per_request": round(cpu * 1000 / max(1, len(latencies)), 3),
        # PostgreSQL's backends on this machine share the cores too: their CPU a request
        # (the backends alive at the end of the run; one that closed meanwhile is missed).
        "database_cpu_ms_per_request": round(
            sum(after - backends_before.get(pid, 0.0) for pid, after in backends_after.items())
            * 1000
            / max(1, len(latencies)),
            3,
        )
        if backends_after
        else None,
        # The load generator's CPU a request: it shares the two cores with the server.
        "client_cpu_ms_per_request": round(client_cpu * 1000 / max(1, len(latencies)), 3),
        "access_log": access_log,
        "journey_processes": journey_processes or None,
        "load_average_at_start": load,
        "machine": f"{platform.machine()} {os.cpu_count()} cores python {platform.python_version()}",
    }


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bench journey_execute")
    parser.add_argument("--calls", type=int, default=5_000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--database-url", default=None)
    parser.add_argument(
        "--access-log", action="store_true", help="serve with an access-log line a request"
    )
    parser.add_argument(
        "--journey-processes",
        type=int,
        default=0,
        help="serve --journey-port with this many processes and post there",
    )
    args = parser.parse_args(argv)
    result = run(
        args.calls,
        args.concurrency,
        args.database_url,
        access_log=args.access_log,
        journey_processes=args.journey_processes,
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
