"""``peoplesync serve --journey-port P --journey-processes 2``, run for real on SQLite and
PostgreSQL:
Journey Builder's retries of one contact's call, spread over connections the two processes
share, make one message; other contacts one each; other paths are not served there; the
processes stop with the main one."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from bench.process_cpu import children

from peoplesync.marketing_cloud.signed_body import key_bytes, sign
from peoplesync.messaging.tables import outbound_messages
from peoplesync.people.database import create_engine

SECRET = "jwt-secret-of-the-package"
PEOPLESYNC = [sys.executable, "-m", "peoplesync.cli.main"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _execute(run: str) -> str:
    claims: dict[str, Any] = {
        "inArguments": [
            {"channel": "sms"},
            {"text": "Hi"},
            {"shortenUrl": False},
            {"trackClicks": False},
            {"phone": "+385915550101"},
        ],
        "activityId": "activity-1",
        "journeyId": "journey-1",
        "definitionInstanceId": run,
        "keyValue": f"contact-{run}",
    }
    return sign(claims, key_bytes(SECRET))


@pytest.fixture
def served(
    tmp_path: Path, database_url: str
) -> Iterator[tuple[subprocess.Popen[bytes], int, int, str]]:
    env = {
        **os.environ,
        "PEOPLESYNC_DATA_DIR": str(tmp_path),
        "PEOPLESYNC_MC_CLIENT_SECRET": "client-secret",
        "PEOPLESYNC_MC_JWT_SECRET": SECRET,
    }
    env["PEOPLESYNC_DATABASE_URL"] = database_url
    add = [*PEOPLESYNC, "marketing-cloud", "add", "--name", "acme", "--mid", "1"]
    add += ["--client-id", "c", "--auth-url", "https://acme.example", "--default-account", "main"]
    subprocess.run(add, env=env, check=True, capture_output=True)
    port, journey_port = _free_port(), _free_port()
    serve = [*PEOPLESYNC, "serve", "--port", str(port), "--no-workers", "--no-access-log"]
    serve += ["--journey-port", str(journey_port), "--journey-processes", "2"]
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen(serve, env=env, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                codes = {
                    httpx.get(f"http://127.0.0.1:{p}/health").status_code
                    for p in (port, journey_port)
                }
                if codes == {200}:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, (
                tmp_path / "serve.log"
            ).read_text()
            time.sleep(0.2)
        yield server, port, journey_port, database_url
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


async def _post_each(url: str, bodies: list[str]) -> list[httpx.Response]:
    async def one(body: str) -> httpx.Response:
        # a connection of its own each: the kernel hands them to either process
        async with httpx.AsyncClient(timeout=30) as client:
            headers = {"content-type": "application/jwt"}
            return await client.post(url, content=body, headers=headers)

    return await asyncio.gather(*(one(body) for body in bodies))


async def test_two_processes_answer_journey_builder_and_keep_one_message_per_contact(
    served: tuple[subprocess.Popen[bytes], int, int, str],
) -> None:
    server, port, journey_port, database_url = served
    helpers = children(server.pid)
    assert len(helpers) == 2
    url = f"http://127.0.0.1:{journey_port}/journey/acme/message/execute"
    retried = await _post_each(url, [_execute("same")] * 30)
    assert {answer.status_code for answer in retried} == {200}
    assert {answer.json()["messageStatus"] for answer in retried} == {"Success: Message pending"}
    assert len({answer.json()["messageId"] for answer in retried}) == 1
    others = await _post_each(url, [_execute(f"run-{n}") for n in range(30)])
    assert len({answer.json()["messageId"] for answer in others}) == 30
    wrong = await _post_each(url, [sign({"activityId": "a"}, b"not-the-secret")])
    assert wrong[0].status_code == 401
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            keys = (
                (await conn.execute(sa.select(outbound_messages.c.idempotency_key))).scalars().all()
            )
    finally:
        await engine.dispose()
    assert sorted(keys) == sorted(
        ["jb:activity-1:same", *(f"jb:activity-1:run-{n}" for n in range(30))]
    )
    async with httpx.AsyncClient() as client:
        not_here = await client.get(f"http://127.0.0.1:{journey_port}/people")
        assert not_here.status_code == 404
        config = await client.get(
            f"http://127.0.0.1:{journey_port}/journey/acme/message/config.json"
        )
        assert config.json()["arguments"]["execute"]["url"].startswith(
            f"http://127.0.0.1:{journey_port}/journey/acme/"
        )
        # the main port serves everything as before
        assert (await client.get(f"http://127.0.0.1:{port}/login")).status_code == 200
    server.terminate()
    server.wait(timeout=30)
    # uvicorn ends the main process by its own signal once it has stopped serving; the
    # journey processes see their parent gone within a second and stop serving too
    deadline = time.monotonic() + 20
    while any(_running(pid) for pid in helpers):
        assert time.monotonic() < deadline, "the journey processes outlived the main one"
        await asyncio.sleep(0.2)


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"
