"""Run `peoplesync sandbox salesforce` as a separate process for end-to-end tests."""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
import threading
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

PEOPLESYNC = [sys.executable, "-m", "peoplesync.cli.main"]


@contextmanager
def served_sandbox(kind: str, data_dir: Path, *options: str) -> Iterator[dict[str, Any]]:
    """``peoplesync sandbox KIND --data-dir D --port 0 ...`` as a process: its JSON line.

    Its stderr goes to ``<data_dir>.stderr`` and what it prints after the JSON line is read
    as it comes: a pipe nobody reads fills up (64 KiB), and the sandbox then blocks in its
    next log call, answering nothing."""
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    errors = data_dir.with_name(data_dir.name + ".stderr")
    with errors.open("w") as stderr:
        process = subprocess.Popen(
            [*PEOPLESYNC, "sandbox", kind, "--data-dir", str(data_dir), "--port", "0", *options],
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    drain: threading.Thread | None = None
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line, errors.read_text() or "no output"
        drain = threading.Thread(target=process.stdout.read, daemon=True)  # the rest
        drain.start()
        yield json.loads(line)
    finally:
        process.terminate()
        process.wait(timeout=30)
        if process.stdout is not None:
            if drain is not None:
                drain.join(timeout=30)
            process.stdout.close()


def environment(
    info: dict[str, Any], data_dir: Path, *, secrets: bool = True, **extra: str
) -> dict[str, str]:
    """The CLI's environment for a data folder: the org's consumer secret and password (unless
    ``secrets`` is off, for the browser and JWT flows), US phone numbers, and ``extra``."""
    env = {
        **os.environ,
        "PEOPLESYNC_DATA_DIR": str(data_dir),
        "PEOPLESYNC_DEFAULT_PHONE_REGION": "US",
    }
    if secrets:
        env["PEOPLESYNC_SF_CLIENT_SECRET"] = info["client_secret"]
        env["PEOPLESYNC_SF_PASSWORD"] = info["password"]
    return {**env, **extra}


def connect_command(info: dict[str, Any], *options: str) -> list[str]:
    """`salesforce connect` to the served org, with ``options`` (a flow's own flags)."""
    return [
        *PEOPLESYNC,
        "salesforce",
        "connect",
        "--login-url",
        info["login_url"],
        "--client-id",
        info["client_id"],
        "--ca-cert",
        info["ca_cert"],
        *options,
    ]


def connect(
    info: dict[str, Any], env: dict[str, str], *options: str
) -> subprocess.CompletedProcess[str]:
    """Connect as the org's integration user (password flow unless ``options`` say otherwise);
    fails the test with the CLI's error output when it does not connect."""
    done = subprocess.run(
        connect_command(info, "--username", info["username"], *options),
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done


@contextmanager
def served_org(data_dir: Path, *options: str) -> Iterator[dict[str, Any]]:
    """Start the org (``options`` are CLI flags such as ``--seed-leads 10``); yield its info line."""
    with served_org_process(data_dir, *options) as (_, info):
        yield info


@contextmanager
def served_org_process(
    data_dir: Path, *options: str
) -> Iterator[tuple[subprocess.Popen[str], dict[str, Any]]]:
    """Like ``served_org``, with the org's process (for tests that kill it)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    log = (data_dir / "server.log").open("w")  # what the org printed, for failing tests
    process = subprocess.Popen(
        [
            *PEOPLESYNC,
            "sandbox",
            "salesforce",
            "--data-dir",
            str(data_dir),
            "--port",
            "0",
            # Bulk jobs run at once unless a test asks for an org's pace (a later flag wins).
            "--bulk-latency",
            "0",
            "--bulk-rows-per-second",
            "0",
            "--bulk-query-rows-per-second",
            "0",
            *options,
        ],
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    try:
        assert process.stdout is not None
        yield process, json.loads(process.stdout.readline())
    finally:
        process.terminate()
        process.wait(timeout=30)
        if process.stdout is not None:
            process.stdout.close()
        log.close()


def call(
    info: dict[str, Any],
    path: str,
    token: str | None = None,
    form: dict[str, str] | None = None,
    *,
    method: str | None = None,
    body: Any = None,
) -> Any:
    """One request to the served org: a form POST, a JSON body, or a GET."""
    context = ssl.create_default_context(cafile=info["ca_cert"])
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    data = urllib.parse.urlencode(form).encode() if form else None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(
        info["instance_url"] + path, data=data, headers=headers, method=method
    )
    with urllib.request.urlopen(request, context=context) as response:
        raw = response.read()
    return json.loads(raw) if raw else None


def login(info: dict[str, Any]) -> str:
    body = call(
        info,
        "/services/oauth2/token",
        form={
            "grant_type": "password",
            "client_id": info["client_id"],
            "client_secret": info["client_secret"],
            "username": info["username"],
            "password": info["password"],
        },
    )
    return str(body["access_token"])


def enable_outbound(env: dict[str, str], *options: str) -> None:
    """Switch on the outbound steps a new integration starts with off (awaiting review), as
    a user does after the push preview; ``options`` such as ``--name second``."""
    done = subprocess.run(
        [*PEOPLESYNC, "steps", "enable", "Person to Lead", "Person to Contact", *options],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
