"""`peoplesync serve` killed in the middle of a transfer: the job shows interrupted, and the
next serve resumes it from its stored position until it is done."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from tests.served_org import PEOPLESYNC, connect, served_org

PASSWORD = "crash test password"
API = "/api/v1/integrations/default"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def _serve(env: dict[str, str], log: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = _free_port()
    with log.open("a") as out:
        process = subprocess.Popen(
            [*PEOPLESYNC, "serve", "--port", str(port), "--no-workers"],
            env=env,
            stdout=out,
            stderr=out,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        yield url, process
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=20)


def _job(url: str, token: str, job_id: str) -> dict[str, Any]:
    response = httpx.get(
        f"{url}{API}/transfers/{job_id}", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200, response.text
    job: dict[str, Any] = response.json()
    return job


def test_a_transfer_cut_by_a_killed_server_resumes_in_the_next(tmp_path: Path) -> None:
    with served_org(
        tmp_path / "org", "--seed-leads", "4000", "--seed-contacts", "1000", "--latency-ms", "150"
    ) as info:
        env = {
            **os.environ,
            "PEOPLESYNC_DATA_DIR": str(tmp_path / "data"),
            "PEOPLESYNC_SF_CLIENT_SECRET": info["client_secret"],
            "PEOPLESYNC_SF_PASSWORD": info["password"],
            "PEOPLESYNC_USER_PASSWORD": PASSWORD,
            "PEOPLESYNC_BATCH_SIZE": "500",
        }
        env.pop("PEOPLESYNC_DATABASE_URL", None)

        def cli(*args: str) -> str:
            done = subprocess.run(
                [*PEOPLESYNC, *args], env=env, capture_output=True, text=True, timeout=120
            )
            assert done.returncode == 0, done.stderr
            return done.stdout.strip()

        cli("users", "add", "admin@example.com", "--role", "admin")
        token = cli("users", "token", "admin@example.com")
        connect(info, env)
        log = tmp_path / "serve.log"
        with _serve(env, log) as (url, process):
            started = httpx.post(
                f"{url}{API}/transfers", json={}, headers={"Authorization": f"Bearer {token}"}
            )
            assert started.status_code == 202, started.text
            job_id = started.json()["id"]
            deadline = time.monotonic() + 120
            while True:
                job = _job(url, token, job_id)
                assert job["state"] == "running", job  # it must still run when killed
                if job["read"] > 0:
                    break
                assert time.monotonic() < deadline, job
                time.sleep(0.1)
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=20)
        cut = job["read"]
        assert 0 < cut < 5000

        with _serve(env, log) as (url, _process):
            first = _job(url, token, job_id)
            assert first["state"] in ("running", "interrupted")  # resumed, or soon resumed
            seen = {first["state"]}
            deadline = time.monotonic() + 180
            while first["state"] != "done":
                assert first["state"] != "failed", first
                assert time.monotonic() < deadline, first
                time.sleep(0.5)
                first = _job(url, token, job_id)
                seen.add(first["state"])
            assert first["read"] >= 5000
            assert first["steps"]["Lead"]["done"] and first["steps"]["Contact"]["done"]
            polls = httpx.get(
                f"{url}{API}/log",
                params={"operation": "poll", "object": "Lead", "limit": 10},
                headers={"Authorization": f"Bearer {token}"},
            ).json()["items"]
            if cut < 4001:  # cut in the Lead step: it went on from its stored position
                assert polls[0]["records"] < 4001, polls
            resumed = httpx.get(
                f"{url}{API}/log",
                params={"operation": "transfer", "limit": 10},
                headers={"Authorization": f"Bearer {token}"},
            ).json()["items"]
            assert any(f"job {job_id} resumed" in entry["detail"] for entry in resumed)
        assert "interrupted" in seen or "running" in seen
        lines = [line for line in log.read_text().splitlines() if "Traceback" in line]
        assert not lines, log.read_text()[-3000:]
